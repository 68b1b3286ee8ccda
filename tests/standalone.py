"""One real Airflow: ``airflow standalone`` (scheduler, triggerer, DAG processor, API server and the
LocalExecutor) in a temporary home, and the tengr.ai emulator. The UI tier and the scheduler tier use it.

Everything runs on loopback in its own process group, writes its log under ``<root>/logs`` and is
stopped at the end. The examples use ``tengr_default`` (an environment connection to the emulator);
the connections the tests make through the form have other ids, so the environment does not shadow them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tests.helpers import free_port, tier_environment, wait_for
from tests.running_airflow import AirflowApi, Process, api_server_environment

#: The key the emulator accepts; a test types it into the form.
API_KEY = "tk-ui-tier-secret-5d1e"
VENV_BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[1]


@dataclass
class StandaloneAirflow(AirflowApi):
    """``airflow standalone`` and the emulator under ``root``; a context manager that starts and stops."""

    root: Path
    #: Where ``airflow`` comes from: this venv's, or the floor venv's for the oldest supported Airflow.
    airflow_bin: Path = VENV_BIN
    #: Whether the example DAGs are in its DAGs folder (the connection form needs none).
    examples: bool = True
    #: More DAG files, name to source, written into its DAGs folder.
    dag_files: Mapping[str, str] = field(default_factory=dict)
    #: How long the emulator's artworks take.
    processing_seconds: float = 1
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "airflow-home"
        self.dags = self.root / "dags"
        self.dags.mkdir(exist_ok=True)
        self.output = self.root / "output"
        self.ports = {name: free_port() for name in ("api", "emulator")}
        self.url = f"http://127.0.0.1:{self.ports['api']}"
        self.emulator_url = f"http://127.0.0.1:{self.ports['emulator']}"

    def env(self) -> dict[str, str]:
        env = tier_environment(self.home, self.dags, self.airflow_bin)
        env.update(api_server_environment(self.url, self.ports["api"], "standalone"))
        env.update(
            {
                "AIRFLOW__API__BASE_URL": self.url,
                # Short polls: a new DAG file, a queued task and a finished trigger are seen in seconds.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                "TENGR_EXAMPLES_OUTPUT": self.output.as_uri(),
                "PYTHONPATH": str(PROJECT),
                "AIRFLOW_CONN_TENGR_DEFAULT": json.dumps(
                    {
                        "conn_type": "tengr",
                        "host": self.emulator_url,
                        "password": API_KEY,
                    }
                ),
            }
        )
        return env

    def _add(self, name: str, command: list[str], env: Mapping[str, str]) -> Process:
        process = Process(name, command, dict(env), self.logs / f"{name}.log")
        self.processes[name] = process
        process.start()
        return process

    def __enter__(self) -> StandaloneAirflow:
        try:
            for source in sorted((PROJECT / "dags_examples").glob("*.py")) if self.examples else ():
                shutil.copy(source, self.dags / source.name)
            for name, code in self.dag_files.items():
                (self.dags / name).write_text(code)
            self._add(
                "emulator",
                [
                    str(VENV_BIN / "tengr-emulator"),
                    "--port",
                    str(self.ports["emulator"]),
                    "--api-key",
                    API_KEY,
                    "--processing-seconds",
                    str(self.processing_seconds),
                    "--quiet",
                ],
                os.environ,
            )
            self._add("standalone", [str(self.airflow_bin / "airflow"), "standalone"], self.env())
            wait_for(self._healthy, 240, f"airflow standalone to be healthy (log: {self.logs})", every=1)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop(grace=15)

    def _healthy(self) -> bool:
        for process in self.processes.values():
            if not process.alive:
                raise RuntimeError(f"{process.name} ended:\n{process.log_text()[-3000:]}")
        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return (self.home / "simple_auth_manager_passwords.json.generated").exists() and all(
            (health.get(part) or {}).get("status") == "healthy" for part in parts
        )

    def log_lines(self, name: str) -> list[str]:
        """What process ``name`` (``standalone``, ``emulator``) has logged so far."""
        return self.processes[name].log_text().splitlines()
