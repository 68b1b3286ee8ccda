"""Test-wide set-up: an isolated AIRFLOW_HOME, and connections that come from the environment.

Outside a running task Airflow reads connections only from secrets backends, so tests define them as
``AIRFLOW_CONN_*`` variables. Importing this module changes nothing: the environment and the DAGs
folder are set up in :func:`pytest_configure`, which pytest calls once per run, before it collects (and
so imports) any test module, and therefore before any test imports Airflow. A run that passes removes
the AIRFLOW_HOME it created; a failed run keeps it (its logs and database) and says where it is.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from tests.helpers import LogText, assemble_dags_folder, connection_env

#: The AIRFLOW_HOME this run created (None when the environment named one), removed at the end.
_CREATED_HOME = pytest.StashKey[Path | None]()


def pytest_configure(config: pytest.Config) -> None:
    """Point Airflow at a fresh home and at a DAGs folder holding every DAG the suite runs.

    Variables the environment already sets are kept (a CI job may point AIRFLOW_HOME elsewhere).
    dag.test() runs only DAGs that live in the configured DAGs folder: the folder is assembled from the
    test DAGs and every DAG the documentation shows, so the docs' code is run, not just read.
    """
    created = None
    if "AIRFLOW_HOME" not in os.environ:
        created = Path(tempfile.mkdtemp(prefix="tengr-airflow-home-"))
        os.environ["AIRFLOW_HOME"] = str(created)
    config.stash[_CREATED_HOME] = created
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault(
        "AIRFLOW__CORE__DAGS_FOLDER", str(assemble_dags_folder(Path(os.environ["AIRFLOW_HOME"])))
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the AIRFLOW_HOME this run created once every test passed; else keep it for a look."""
    created = session.config.stash.get(_CREATED_HOME, None)
    if created is None:
        return
    if exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(created, ignore_errors=True)
    else:
        session.config.stash[_CREATED_HOME] = None
        print(f"\nAirflow's home of this run (logs, database): {created}")


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
