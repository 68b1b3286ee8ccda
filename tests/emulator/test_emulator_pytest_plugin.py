"""The pytest plugin: the ``tengr_emulator`` fixture, its marker, and ``tengr_emulator_factory``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from tests.emulator.support import TIMEOUT, EmulatorFactory

import tengr_provider
from tengr_provider.testing import TengrEmulator

PROVIDER_ROOT = str(Path(tengr_provider.__file__).resolve().parent.parent)


def test_fixture_yields_a_started_emulator_with_default_settings(tengr_emulator: TengrEmulator) -> None:
    assert tengr_emulator.running
    assert tengr_emulator.config.processing_seconds == 2.0
    assert requests.get(tengr_emulator.url + "/_emulator/stats", timeout=TIMEOUT).status_code == 200


def test_fixture_points_the_airflow_connection_at_the_emulator(tengr_emulator: TengrEmulator) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_TENGR_DEFAULT"])

    assert connection == {
        "conn_type": "tengr",
        "host": tengr_emulator.url,
        "password": tengr_emulator.api_key,
    }


@pytest.mark.tengr_emulator(processing_seconds=0.25, api_key="marked-key", seed=4)
def test_marker_configures_the_fixture(tengr_emulator: TengrEmulator) -> None:
    assert tengr_emulator.config.processing_seconds == 0.25
    assert tengr_emulator.config.seed == 4
    assert tengr_emulator.api_key == "marked-key"


def test_factory_starts_more_emulators(tengr_emulator_factory: EmulatorFactory) -> None:
    first = tengr_emulator_factory(error_rate=1.0)
    second = tengr_emulator_factory()

    assert first.running
    assert second.running
    assert first.url != second.url
    assert first.config.error_rate == 1.0


def test_a_pytest_session_gets_fixture_marker_factory_and_cleanup(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import json, os, sys, threading

            import pytest

            pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.5, seed=3)
            EMULATORS = []


            def test_plugin_import_is_light():
                assert "pydantic" not in sys.modules


            @pytest.mark.tengr_emulator(seed=11)
            def test_closest_marker_wins_per_option(tengr_emulator):
                EMULATORS.append(tengr_emulator)
                assert (tengr_emulator.config.processing_seconds, tengr_emulator.config.seed) == (0.5, 11)
                assert json.loads(os.environ["AIRFLOW_CONN_TENGR_DEFAULT"])["host"] == tengr_emulator.url


            def test_factory(tengr_emulator_factory):
                EMULATORS.extend([tengr_emulator_factory(), tengr_emulator_factory(rate_limit=1)])


            def test_everything_was_stopped_and_the_variable_restored():
                assert len(EMULATORS) == 3
                assert not any(emulator.running for emulator in EMULATORS)
                assert "AIRFLOW_CONN_TENGR_DEFAULT" not in os.environ
                assert threading.active_count() == 1
            """
        )
    )
    env = {key: value for key, value in os.environ.items() if key != "AIRFLOW_CONN_TENGR_DEFAULT"}
    env.update({"PYTHONPATH": PROVIDER_ROOT, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tengr_provider.testing.pytest_plugin",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path / "test_user.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_the_marker_is_registered(pytestconfig: pytest.Config) -> None:
    assert any(line.startswith("tengr_emulator(") for line in pytestconfig.getini("markers"))
