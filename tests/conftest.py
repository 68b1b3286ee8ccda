"""Test-wide set-up: an isolated AIRFLOW_HOME, and connections that come from the environment.

Outside a running task Airflow reads connections only from secrets backends, so tests define them as
``AIRFLOW_CONN_*`` variables. This module runs before any test imports Airflow.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest
from tests.helpers import LogText, assemble_dags_folder, connection_env

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tengr-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# dag.test() runs only DAGs that live in the configured DAGs folder: assemble one from the test DAGs and
# every DAG the documentation shows, so the docs' code is run, not just read.
os.environ.setdefault(
    "AIRFLOW__CORE__DAGS_FOLDER", str(assemble_dags_folder(Path(os.environ["AIRFLOW_HOME"])))
)


@pytest.fixture
def tengr_connection(monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``tengr_default`` connection to BASE_URL with SECRET_KEY."""
    name, value = connection_env()
    monkeypatch.setenv(name, value)
    return "tengr_default"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> LogText:
    """All log output so far: stdlib records (Airflow 3.0) and structlog lines on stdout/stderr (3.1+).

    Hooks log through ``self.log``, which is a structlog logger on newer Airflow and a stdlib logger on
    older; a test that checks what was logged must see both.
    """
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def text() -> str:
        out, err = capfd.readouterr()
        seen.extend([out, err])
        return caplog.text + "".join(seen)

    return text
