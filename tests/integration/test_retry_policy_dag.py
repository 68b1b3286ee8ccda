"""``retry_policy=TengrRetryPolicy()`` in a real run (``dag.test()`` against the emulator, Airflow 3.3+)."""

from __future__ import annotations

import json

import pytest
from tests.helpers import AIRFLOW_VERSION, LogText
from tests.integration.dag_runner import run_dag

from tengr_provider.testing import TengrEmulator, faults
from tengr_provider.version_compat import HAS_RETRY_POLICIES

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("airflow_db"),
    pytest.mark.skipif(
        not HAS_RETRY_POLICIES, reason=f"retry policies arrived in Airflow 3.3 (this is {AIRFLOW_VERSION})"
    ),
]
CREATE = "POST /v1/artworks/photo-pilot"


def use_connection(monkeypatch: pytest.MonkeyPatch, emulator: TengrEmulator, **changes: object) -> None:
    """Point ``tengr_default`` at the emulator with the hook's own HTTP retries off, so every failure
    reaches the task and its policy."""
    connection = {**json.loads(emulator.connection_json), "extra": {"max_retries": 0}, **changes}
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", json.dumps(connection))


@pytest.mark.timeout(240)
@pytest.mark.tengr_emulator(processing_seconds=0.2)
def test_a_401_fails_the_task_without_retrying(
    tengr_emulator: TengrEmulator, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    use_connection(monkeypatch, tengr_emulator, password="not-the-key")
    outcome = run_dag("it_retry_policy")
    assert (outcome.state, outcome.task_states["restyle"]) == ("failed", "failed")
    assert outcome.tries["restyle"] == 1, "retries=2, but a refused key cannot get better"
    assert tengr_emulator.stats().count(CREATE, 401) == 1
    assert "check the connection's key" in logs()


@pytest.mark.timeout(240)
@pytest.mark.tengr_emulator(processing_seconds=0.2, error_rate=1.0)
def test_a_503_is_retried_until_the_tasks_retries_run_out(
    tengr_emulator: TengrEmulator, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    monkeypatch.setattr(faults, "SERVER_ERROR_STATUSES", (503,))
    use_connection(monkeypatch, tengr_emulator)
    outcome = run_dag("it_retry_policy")
    assert (outcome.state, outcome.task_states["restyle"]) == ("failed", "failed")
    assert outcome.tries["restyle"] == 3, "a 503 passes: every one of the 2 retries must be tried"
    assert tengr_emulator.stats().count(CREATE, 503) == 3
    assert "server error (5xx): retrying" in logs()
