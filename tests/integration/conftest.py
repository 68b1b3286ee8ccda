"""Integration tests run real Airflow: its CLI, its metadata database, ``dag.test()``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def airflow_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run the ``airflow`` CLI of this venv in the test's AIRFLOW_HOME and return its stdout and stderr."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated SQLite metadata database in the session's AIRFLOW_HOME."""
    airflow_cli("db", "migrate", timeout=300)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(params=["v1", "v2"])
def api_version(request: pytest.FixtureRequest, tengr_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per API version: the same DAG, the connection's ``api_version`` extra set.

    The emulator serves both versions, so the test's ``tengr_emulator`` answers either way.
    """
    from tengr_provider.testing.pytest_plugin import CONNECTION_ENV

    monkeypatch.setenv(CONNECTION_ENV, tengr_emulator.connection_json_for(request.param))
    return str(request.param)
