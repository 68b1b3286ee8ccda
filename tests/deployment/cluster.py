"""A production-shaped Airflow on loopback: PostgreSQL, Redis, CeleryExecutor, S3, and the emulator.

Every process is real and separate: the metadata database (PostgreSQL, initdb'd in a temporary
folder and run as an unprivileged user, since the server refuses root), the Celery broker (Redis),
moto's S3 server, the tengr.ai emulator, and Airflow's api-server, scheduler, dag-processor, two
triggerers and two Celery workers. Each process writes its own log under ``<root>/logs``; a failing
test names that folder. Processes run in their own process groups, so a test can SIGKILL one the way a
machine dies, and :meth:`Deployment.stop` ends all of them, whatever state they are in.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from tests.helpers import free_port, tier_environment, wait_for
from tests.running_airflow import AirflowApi, Process, api_server_environment

#: The emulator's API key in this deployment; tests check it appears in no log.
API_KEY = "tk-deployment-secret-71c3"
BUCKET = "tengr-deployment"
VENV_BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[2]
#: Tasks per Celery worker: two workers of four share the machine's two cores.
WORKER_CONCURRENCY = 4
#: Waits one triggerer holds at most, so a 200-artwork batch spreads over both triggerers.
TRIGGERER_CAPACITY = 150


def _postgres_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, or where Debian's packages put it."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"{name} not found: run tests/deployment/install-services.sh")
    return found


def _service_user() -> pwd.struct_passwd:
    """The unprivileged user PostgreSQL runs as: Debian's ``postgres``, or one made for the tier."""
    for name in ("postgres", "tengr-postgres"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(["useradd", "--system", "--no-create-home", "tengr-postgres"], check=True)
    return pwd.getpwnam("tengr-postgres")


@dataclass
class Deployment(AirflowApi):
    """The whole deployment under ``root``; use as a context manager (starts, health-checks, stops)."""

    root: Path
    dags: Path
    emulator_args: tuple[str, ...] = ()
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "airflow-home"
        self.ports = {
            name: free_port() for name in ("postgres", "redis", "s3", "emulator", "api", "worker1", "worker2")
        }
        self.ports.update({f"triggerer{n}": free_port() for n in (1, 2)})
        self.url = f"http://127.0.0.1:{self.ports['api']}"
        self.emulator_url = f"http://127.0.0.1:{self.ports['emulator']}"
        self.s3_endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self._cleanup: list[Path] = []
        #: The running triggerer job of each triggerer process, e.g. ``{"triggerer1": 2}``.
        self.triggerer_jobs: dict[str, int] = {}

    # -- the environment every Airflow process shares ----------------------------------------------
    def airflow_env(self) -> dict[str, str]:
        database = f"airflow@127.0.0.1:{self.ports['postgres']}/airflow"
        env = tier_environment(self.home, self.dags, VENV_BIN)
        env.update(api_server_environment(self.url, self.ports["api"], "deployment"))
        env.update(
            {
                # A few more than the eight worker slots: a queued task is then seconds old, never a minute.
                "AIRFLOW__CORE__PARALLELISM": "16",
                # The examples' output_path default: the deployment's bucket, as a team would set it.
                "TENGR_EXAMPLES_OUTPUT": f"s3://aws_default@{BUCKET}/examples",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{database}",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{database}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "tests.deployment.celery_config.CELERY_CONFIG",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
                "PYTHONPATH": str(PROJECT),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                # A dead worker's tasks and a dead triggerer's waits are noticed in seconds, not minutes.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
                # A task a dead worker had taken from the broker but not started stays queued until then.
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "45",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW_CONN_TENGR_DEFAULT": json.dumps(
                    {"conn_type": "tengr", "host": self.emulator_url, "password": API_KEY}
                ),
                "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                    {
                        "conn_type": "aws",
                        "login": "testing",
                        "password": "testing",
                        "extra": {"endpoint_url": self.s3_endpoint, "region_name": "us-east-1"},
                    }
                ),
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        return env

    # -- starting --------------------------------------------------------------------------------------
    def _add(self, name: str, command: list[str], env: Mapping[str, str] | None = None, **kw: Any) -> Process:
        process = Process(name, command, dict(env or os.environ), self.logs / f"{name}.log", **kw)
        self.processes[name] = process
        process.start()
        return process

    def _start_postgres(self) -> None:
        user = _service_user()
        # Its own folder under /tmp: pytest's temporary folders are private to root.
        data = Path(tempfile.mkdtemp(prefix="tengr-deployment-pg-"))
        self._cleanup.append(data)
        os.chown(data, user.pw_uid, user.pw_gid)
        subprocess.run(
            [_postgres_bin("initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            user=user.pw_uid,
            group=user.pw_gid,
            timeout=120,
        )
        self._add(
            "postgres",
            [
                _postgres_bin("postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["postgres"]),
                "-k",
                str(data),
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
            ],
            user=user.pw_uid,
        )
        wait_for(lambda: self._port_open("postgres"), 60, "PostgreSQL")
        wait_for(
            lambda: (
                subprocess.run(
                    [
                        _postgres_bin("createdb"),
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(self.ports["postgres"]),
                        "-U",
                        "airflow",
                        "airflow",
                    ],
                    capture_output=True,
                ).returncode
                == 0
            ),
            60,
            "the airflow database",
        )

    def _start_backing_services(self) -> None:
        self._add(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.ports["redis"]),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        self._add("s3", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.ports["s3"])])
        self._add(
            "emulator",
            [
                str(VENV_BIN / "tengr-emulator"),
                "--port",
                str(self.ports["emulator"]),
                "--api-key",
                API_KEY,
                "--quiet",
                *self.emulator_args,
            ],
        )
        self._start_postgres()
        for name in ("redis", "s3", "emulator"):
            wait_for(lambda name=name: self._port_open(name), 60, name)
        self.s3.create_bucket(Bucket=BUCKET)

    def start_airflow(self, name: str) -> Process:
        """Start (or start again) the Airflow component ``name``: api-server, scheduler, worker1, ..."""
        env = self.airflow_env()
        airflow = str(VENV_BIN / "airflow")
        if name.startswith("worker"):
            # Workers on one machine are told apart by their Celery hostname, and need ports of their own.
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self.ports[name])
            command = [
                airflow,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--without-mingle",
                "--without-gossip",
            ]
        elif name.startswith("triggerer"):
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(self.ports[name])
            command = [airflow, "triggerer", "--capacity", str(TRIGGERER_CAPACITY)]
        else:
            command = [airflow, name]
        if not name.startswith("triggerer"):
            return self._add(name, command, env)
        # Which triggerer job (the id trigger rows and trigger logs name) is which process.
        known = self._triggerer_job_ids()
        process = self._add(name, command, env)
        (self.triggerer_jobs[name],) = wait_for(
            lambda: self._triggerer_job_ids() - known, 120, f"{name}'s job to start"
        )
        return process

    def _triggerer_job_ids(self) -> set[int]:
        query = "select id from job where job_type = 'TriggererJob' and state = 'running'"
        return {int(job) for (job,) in self.sql(query)}

    def __enter__(self) -> Deployment:
        try:
            self._start_backing_services()
            subprocess.run(
                [str(VENV_BIN / "airflow"), "db", "migrate"],
                env=self.airflow_env(),
                check=True,
                stdout=(self.logs / "db-migrate.log").open("w"),
                stderr=subprocess.STDOUT,
                timeout=300,
            )
            for name in AIRFLOW_COMPONENTS:
                self.start_airflow(name)
            wait_for(self._api_healthy, 180, "the api-server's health check")
            wait_for(lambda: self.workers_online() == {"worker1", "worker2"}, 120, "both Celery workers")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM every process at once, then SIGKILL what is left after a shared grace period."""
        running = [process for process in self.processes.values() if process.alive]
        for process in running:
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in running:
            process.stop(grace=max(0.1, deadline - time.monotonic()))
        for folder in self._cleanup:
            shutil.rmtree(folder, ignore_errors=True)

    # -- health --------------------------------------------------------------------------------------
    def _port_open(self, name: str) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.ports[name])) == 0

    def health(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json())

    def _api_healthy(self) -> bool:
        try:
            health = self.health()
        except (requests.RequestException, ValueError):
            return False
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "triggerer")
        )

    def workers_online(self) -> set[str]:
        """Celery workers that answer a ping on the broker, by their ``--celery-hostname`` prefix."""
        answer = subprocess.run(
            [
                str(VENV_BIN / "celery"),
                "-b",
                self.airflow_env()["AIRFLOW__CELERY__BROKER_URL"],
                "inspect",
                "ping",
                "--timeout",
                "2",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return set(re.findall(r'"(worker\d)@', answer.stdout))

    # -- what the REST API does not show ----------------------------------------------------------------
    def task_states(self, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
        """``{"task[map_index]": (state, try_number)}`` of one run, every one: read from the database."""
        rows = self.sql(
            "select task_id, map_index, state, try_number from task_instance "
            "where dag_id = %s and run_id = %s",
            (dag_id, run_id),
        )
        return {f"{t}[{m}]" if m >= 0 else t: (str(s), int(n)) for t, m, s, n in rows}

    def return_values(self, dag_id: str, run_id: str, task_id: str) -> dict[int, Any]:
        """``{map_index: return value}`` of one task of one run."""
        rows = self.sql(
            "select map_index, value from xcom where dag_id = %s and run_id = %s and task_id = %s "
            "and key = 'return_value'",
            (dag_id, run_id, task_id),
        )
        return {
            int(index): value if not isinstance(value, str) else json.loads(value) for index, value in rows
        }

    def sql(self, query: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        with (
            contextlib.closing(
                psycopg2.connect(
                    host="127.0.0.1", port=self.ports["postgres"], user="airflow", dbname="airflow"
                )
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(query, parameters)
            return list(cursor.fetchall()) if cursor.description else []

    def emulator_stats(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.emulator_url}/_emulator/stats", timeout=10).json())

    @cached_property
    def s3(self) -> Any:
        """A boto3 client of moto's S3 server, as the tests read the bucket."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def s3_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def s3_object(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def logs_of(self, prefix: str) -> Iterator[tuple[str, str]]:
        for name, process in self.processes.items():
            if name.startswith(prefix):
                yield name, process.log_text()


#: The Airflow components, in the order they start.
AIRFLOW_COMPONENTS = (
    "api-server",
    "scheduler",
    "dag-processor",
    "triggerer1",
    "triggerer2",
    "worker1",
    "worker2",
)
