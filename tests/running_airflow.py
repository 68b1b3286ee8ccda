"""What the tiers that start a real Airflow share: one process group per program, the API server's
settings, and the REST API as the UI calls it.

The deployment tier (:mod:`tests.deployment.cluster`) and ``airflow standalone``
(:mod:`tests.standalone`, for the UI and scheduler tiers) start different Airflows and check them the
same way.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from tests.helpers import wait_for

#: The simple auth manager's user the tests log in as.
ADMIN = "admin"


@dataclass
class Process:
    """One started program: its command, environment, log file and process group."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    user: int | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=self.user,
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole process group, as a lost machine would: no cleanup runs."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=30)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM, then SIGKILL whatever of the group is still there after ``grace`` seconds."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def api_server_environment(url: str, port: int, tier: str) -> dict[str, str]:
    """The settings of an Airflow whose API server listens on loopback ``port``, reached at ``url``:
    the simple auth manager's admin, a fernet key and a JWT secret of the ``tier``'s own, and the
    connection form's Test button on."""
    return {
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(
            f"{tier}-fernet-key".ljust(32, "!")[:32].encode()
        ).decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": f"{tier}-" + "s" * 48,
    }


class AirflowApi:
    """The REST API of a running Airflow 3, logged in as :data:`ADMIN`; a base of the tiers' Airflows.

    A subclass sets ``url`` (the API server's) and ``home`` (its AIRFLOW_HOME, where the simple auth
    manager writes the generated password).
    """

    url: str
    home: Path
    _token: str | None = None

    @property
    def password(self) -> str:
        """The admin's password, as the simple auth manager generated it."""
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        return str(passwords[ADMIN])

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``method`` on ``/api/v2<path>`` with the admin's token."""
        if self._token is None:
            answer = requests.post(
                f"{self.url}/auth/token", json={"username": ADMIN, "password": self.password}, timeout=30
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        headers = {"Authorization": f"Bearer {self._token}"}
        return requests.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=60, **kwargs)

    def _get(self, path: str) -> Any:
        answer = self.call("GET", path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def connection(self, conn_id: str) -> dict[str, Any]:
        return dict(self._get(f"/connections/{quote(conn_id, safe='')}"))

    def unpause(self, dag_id: str) -> None:
        answer = self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        assert answer.status_code == 200, answer.text

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Unpause ``dag_id`` and trigger it with ``conf``, as the Trigger button does (no logical date)."""
        wait_for(
            lambda: self.call("GET", f"/dags/{dag_id}").status_code == 200, 120, f"{dag_id} to be parsed"
        )
        self.unpause(dag_id)
        answer = self.call(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": dict(conf or {})}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["logical_date"] is None
        return str(answer.json()["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self._get(f"/dags/{dag_id}/dagRuns")["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        return list(self._get(path)["task_instances"])

    def wait_for_run_end(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        """The run once it has ended, whichever way."""

        def ended() -> dict[str, Any] | None:
            answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
            if answer.status_code != 200:  # a busy SQLite can fail a read; the next poll asks again
                return None
            run = answer.json()
            return run if run["state"] in ("success", "failed") else None

        run: dict[str, Any] = wait_for(ended, timeout, f"{dag_id} run {run_id} to end", every=1)
        return run

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        """The run once it has ended; it must have succeeded, else its task instances are shown."""
        run = self.wait_for_run_end(dag_id, run_id, timeout)
        assert run["state"] == "success", (run["state"], self.task_states(dag_id, run_id))
        return run

    def task_states(self, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
        """``{"task[map_index]": (state, try_number)}`` of one run (the REST API's first page)."""
        return {
            f"{ti['task_id']}[{ti['map_index']}]" if ti["map_index"] >= 0 else ti["task_id"]: (
                str(ti["state"]),
                int(ti["try_number"]),
            )
            for ti in self.task_instances(dag_id, run_id)
        }
