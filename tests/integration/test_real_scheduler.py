"""A deferrable task under a real scheduler, triggerer and LocalExecutor, not ``dag.test()``.

``dag.test()`` runs triggers inline in its own process. This test starts the components a deployment
runs (API server, scheduler, DAG processor, triggerer) in a private AIRFLOW_HOME, triggers a DAG whose
task defers, and checks that the task was really handed to the triggerer and resumed on a worker.
It starts and stops every process itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from packaging.version import Version
from tests.helpers import AIRFLOW_VERSION

from tengr_provider.testing import TengrEmulator

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        Version("3.3") > AIRFLOW_VERSION,
        reason="run on the main target: on Airflow 3.0.6 the scheduler fails the resumed task with "
        "'DAG ... not found in serialized_dag' (an Airflow issue, seen outside this provider's code)",
    ),
]

DAG_ID = "tengr_real_scheduler_smoke"
DAG_FILE = f'''
from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    TengrPhotoPilotOperator(
        task_id="restyle",
        image_url="https://example.com/chair.png",
        image_guidance=1,
        modification=2,
        creativity=2,
        effort=2,
        deferrable=True,
        poll_interval=1,
        timeout=120,
    )
'''
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SECRET = "tk-real-scheduler-secret-5f0c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # table not created yet, or locked for a moment
        return []
    finally:
        connection.close()


def api_server_is_up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, TengrEmulator]]:
    """Migrated AIRFLOW_HOME, the emulator, and the four Airflow components running on loopback."""
    home, dags = tmp_path / "home", tmp_path / "dags"
    dags.mkdir()
    (dags / "smoke.py").write_text(DAG_FILE)
    airflow = Path(sys.executable).with_name("airflow")
    port = free_port()
    with TengrEmulator(processing_seconds=3, api_key=SECRET) as emulator:
        env = {
            **os.environ,
            "PATH": f"{airflow.parent}{os.pathsep}{os.environ['PATH']}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW_CONN_TENGR_DEFAULT": emulator.connection_json,
        }
        env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
        env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
        subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
        processes = [
            subprocess.Popen(
                [str(airflow), component],
                env=env,
                stdout=(tmp_path / f"{component}.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for component in COMPONENTS
        ]
        try:
            wait_for(lambda: api_server_is_up(port), 180, "the API server (workers report to it)")
            yield env, home / "airflow.db", emulator
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def test_deferrable_task_waits_in_the_real_triggerer(
    deployment: tuple[dict[str, str], Path, TengrEmulator], tmp_path: Path
) -> None:
    env, database, emulator = deployment
    airflow = str(Path(sys.executable).with_name("airflow"))
    wait_for(
        lambda: query(database, f"select 1 from dag where dag_id = '{DAG_ID}'"), 120, "the DAG to be parsed"
    )
    subprocess.run(
        [airflow, "dags", "unpause", DAG_ID], env=env, check=True, capture_output=True, timeout=120
    )
    subprocess.run(
        [airflow, "dags", "trigger", DAG_ID], env=env, check=True, capture_output=True, timeout=120
    )

    seen: set[str] = set()

    def run_finished() -> bool:
        seen.update(str(state) for (state,) in query(database, "select state from task_instance"))
        return any(
            state in ("success", "failed") for (state,) in query(database, "select state from dag_run")
        )

    wait_for(run_finished, 180, "the DAG run to finish")
    assert query(database, "select state from dag_run") == [("success",)], (
        tmp_path / "scheduler.log"
    ).read_text()[-3000:]
    assert "deferred" in seen, f"the task never deferred; states seen: {seen}"
    stats = emulator.stats()
    assert stats.artworks_created == 1
    assert stats.count("GET /v1/artworks/{id}") >= 1
    (value,) = query(database, "select value from xcom where key = 'return_value'")[0]
    assert json.loads(value)["status"] == "succeeded"
    for log in [*tmp_path.glob("*.log"), *(tmp_path / "home" / "logs").rglob("*")]:
        if log.is_file():
            assert SECRET not in log.read_text(errors="replace"), f"the API key leaked into {log}"
