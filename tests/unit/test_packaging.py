"""The built distribution: the licence travels with it; the Airflow floor and the Python it promises are
the ones the suite runs on."""

from __future__ import annotations

import re
import subprocess
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel, built in-process by hatchling (the project's build backend), without a download."""
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("dist")
    (built,) = WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"])
    return zipfile.ZipFile(built)


def metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode())


@pytest.mark.timeout(120)
def test_the_wheel_carries_the_apache_license(wheel: zipfile.ZipFile) -> None:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(name).decode()
    assert text == (REPO / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert metadata(wheel)["License-Expression"] == "Apache-2.0"


@pytest.mark.timeout(120)
def test_the_wheel_requires_the_oldest_airflow_the_suite_runs_on(wheel: zipfile.ZipFile) -> None:
    floor = re.search(r"^FLOOR_AIRFLOW_VERSION \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert floor is not None
    requires = metadata(wheel).get_all("Requires-Dist") or []
    assert f"apache-airflow>={floor.group(1)}" in requires, requires


@pytest.mark.timeout(120)
def test_the_wheel_names_only_the_python_the_suite_runs_on(wheel: zipfile.ZipFile) -> None:
    # make test, make test-floor and CI create their venvs from the Makefile's PYTHON: that interpreter's
    # version is the one the suite passes on, and the only one a classifier may promise.
    python = re.search(r"^PYTHON \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert python is not None
    tested = subprocess.run(
        [python.group(1), "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    classifiers = metadata(wheel).get_all("Classifier") or []
    versions = [
        c.rpartition(" :: ")[2]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert versions == [tested]
