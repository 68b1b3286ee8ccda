"""Rules of the test suite itself: every test has a ceiling, `make unit` runs the unit tests only, and the
root conftest sets up Airflow only when pytest configures the run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import EXAMPLE_DAG_FILES, REPO


def test_every_test_has_a_time_ceiling(pytestconfig: pytest.Config) -> None:
    # A hung test (a rate limiter that never refuses, a trigger that never yields) must fail, not stall CI.
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 0 < float(pytestconfig.getini("timeout")) <= 600


def test_make_unit_runs_only_the_unit_tests() -> None:
    makefile = (REPO / "Makefile").read_text()
    unit = re.search(r"^unit:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert unit is not None
    assert "pytest tests/unit" in unit.group(1)


def test_test_modules_have_unique_names() -> None:
    # tests/ has no __init__.py files: two test modules of one name stop the whole suite at collection.
    names = [path.name for path in (REPO / "tests").rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []


_IMPORT_THE_ROOT_CONFTEST = """
import importlib.util, json, os, sys
sys.path.insert(0, sys.argv[1])
before = dict(os.environ)
path = os.path.join(sys.argv[1], "tests", "conftest.py")
spec = importlib.util.spec_from_file_location("root_conftest", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
changed = sorted(key for key in set(before) | set(os.environ) if before.get(key) != os.environ.get(key))
if sys.argv[2] == "configure":
    import pytest
    class Config:
        stash = pytest.Stash()
    module.pytest_configure(Config())
    changed = sorted(key for key in set(before) | set(os.environ) if before.get(key) != os.environ.get(key))
print(json.dumps({"changed": changed, "imported_airflow": "airflow" in sys.modules}))
"""


def run_root_conftest(tmp_path: Path, step: str) -> dict[str, object]:
    """Import tests/conftest.py in a fresh interpreter (and run ``pytest_configure`` when asked)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_THE_ROOT_CONFTEST, str(REPO), step],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_importing_the_root_conftest_changes_nothing(tmp_path: Path) -> None:
    # A conftest that sets variables or builds folders when imported does so in every process that
    # imports it, in whatever order; pytest_configure runs once, before any test module is imported.
    report = run_root_conftest(tmp_path, "import")
    assert report == {"changed": [], "imported_airflow": False}
    assert list(tmp_path.iterdir()) == []


def test_pytest_configure_gives_airflow_its_home_and_dags_before_airflow_is_imported(tmp_path: Path) -> None:
    report = run_root_conftest(tmp_path, "configure")
    assert report == {
        "changed": ["AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__LOAD_EXAMPLES"],
        "imported_airflow": False,
    }
    (home,) = tmp_path.iterdir()
    assert {path.name for path in (home / "dags").iterdir()} >= {path.name for path in EXAMPLE_DAG_FILES}


def test_the_pre_commit_hooks_run_what_make_lint_typecheck_runs() -> None:
    import yaml

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    before_commit = [hook for hook in hooks if hook.get("stages", ["pre-commit"]) == ["pre-commit"]]
    assert [hook["entry"] for hook in before_commit] == ["make lint", "make typecheck"]
    assert all(hook["pass_filenames"] is False for hook in before_commit)  # the targets check every path
    makefile = (REPO / "Makefile").read_text()
    for target in ("lint", "typecheck"):
        assert re.search(rf"^{target}: install\n\t\S", makefile, re.MULTILINE), f"make {target} is gone"


@pytest.mark.parametrize(("subject", "accepted"), [("x" * 71, True), ("x" * 72, False)])
def test_the_commit_message_hook_keeps_subjects_under_72_characters(
    tmp_path: Path, subject: str, accepted: bool
) -> None:
    import yaml

    hooks = [
        hook
        for repo in yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    ]
    (hook,) = [hook for hook in hooks if hook.get("stages") == ["commit-msg"]]
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text(f"{subject}\n\nWhy: the body.\n")
    command = [sys.executable if part == "python3" else part for part in hook["entry"].split()]
    result = subprocess.run([*command, str(message)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is accepted, result.stdout
