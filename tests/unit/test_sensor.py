"""TengrArtworkSensor with a mocked hook: poke results, failures, deferral and resumption."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
from tests.helpers import task_context

from tengr_provider.exceptions import TengrArtworkFailedError, TengrNotFoundError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.models import Artwork
from tengr_provider.sensors.artwork import TengrArtworkSensor
from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.version_compat import AirflowException, AirflowRescheduleException, AirflowSensorTimeout
from tengr_provider.waiting.requeue import REQUEUE_SETTLE

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.0
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

ART = "a-77"


def artwork(status: str) -> Artwork:
    return Artwork.model_validate({"id": ART, "status": status, "results": ["https://cdn.example/x.png"]})


def sensor(**kwargs: Any) -> tuple[TengrArtworkSensor, mock.MagicMock]:
    task = TengrArtworkSensor(task_id="wait", artwork_id=ART, **kwargs)
    hook = mock.create_autospec(TengrHook, instance=True)
    task.__dict__["hook"] = hook
    return task, hook


@pytest.mark.parametrize("status", ["succeeded", "done"])
def test_poke_is_done_with_the_artwork_json(status: str) -> None:
    task, hook = sensor()
    hook.get_artwork.return_value = artwork(status)
    result = task.poke(task_context())
    assert result.is_done is True
    assert result.xcom_value["id"] == ART
    assert result.xcom_value["status"] == status


@pytest.mark.parametrize("status", ["starting", "processing"])
def test_poke_is_not_done_while_in_progress(status: str) -> None:
    task, hook = sensor()
    hook.get_artwork.return_value = artwork(status)
    assert task.poke(task_context()).is_done is False


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_poke_fails_on_failed_or_canceled(status: str) -> None:
    task, hook = sensor()
    hook.get_artwork.return_value = artwork(status)
    with pytest.raises(TengrArtworkFailedError, match=f"{ART} ended with status '{status}'"):
        task.poke(task_context())


def test_poke_fails_on_unknown_artwork() -> None:
    task, hook = sensor()
    hook.get_artwork.side_effect = TengrNotFoundError(
        404, "Artwork not found", method="GET", path=f"/v1/artworks/{ART}"
    )
    with pytest.raises(TengrNotFoundError, match=ART):
        task.poke(task_context())


def test_deferrable_returns_at_once_when_already_done() -> None:
    task, hook = sensor(deferrable=True)
    hook.get_artwork.return_value = artwork("succeeded")
    assert task.execute(task_context())["status"] == "succeeded"


def test_deferrable_defers_with_the_poke_interval_and_timeout() -> None:
    task, hook = sensor(deferrable=True, poke_interval=30, timeout=900, tengr_conn_id="c2")
    hook.get_artwork.return_value = artwork("processing")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, TengrArtworkTrigger)
    assert (trigger.artwork_id, trigger.tengr_conn_id, trigger.poll_interval) == (ART, "c2", 30)
    assert deferred.value.timeout.total_seconds() >= 900


def test_execute_complete_success_returns_the_artwork() -> None:
    task, _ = sensor(deferrable=True)
    event = {"status": "success", "artwork": artwork("done").to_api(), "message": "ok"}
    assert task.execute_complete(task_context(), event)["status"] == "done"


@pytest.mark.parametrize(
    ("event", "error", "text"),
    [
        (
            {"status": "timeout", "artwork": {"id": ART}, "message": f"{ART} still 'processing'"},
            AirflowSensorTimeout,
            ART,
        ),
        (
            {"status": "error", "artwork": artwork("canceled").to_api(), "message": "m"},
            TengrArtworkFailedError,
            "'canceled'",
        ),
        (
            {
                "status": "error",
                "artwork": {"id": ART},
                "message": f"waiting for tengr.ai artwork {ART} failed",
            },
            AirflowException,
            ART,
        ),
        ({"nonsense": True}, AirflowException, "unexpected event"),
    ],
)
def test_execute_complete_failures(event: dict[str, Any], error: type[Exception], text: str) -> None:
    task, _ = sensor(deferrable=True)
    with pytest.raises(error, match=text):
        task.execute_complete(task_context(), event)


def test_artwork_id_and_connection_are_templated() -> None:
    assert {"artwork_id", "tengr_conn_id"} <= set(TengrArtworkSensor.template_fields)


def test_deferral_holds_the_event_for_the_requeue_settle_time() -> None:
    task, hook = sensor(deferrable=True, poke_interval=1)
    hook.get_artwork.return_value = artwork("processing")
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context())
    assert deferred.value.trigger.not_before >= before + REQUEUE_SETTLE


@pytest.mark.parametrize(("poke_interval", "least_delay"), [(1, REQUEUE_SETTLE), (120, 120)])
def test_reschedule_mode_never_comes_back_sooner_than_the_settle_time(
    poke_interval: float, least_delay: float
) -> None:
    """A sensor rescheduled sooner can be failed by Airflow's scheduler (docs/troubleshooting.md)."""
    task, hook = sensor(mode="reschedule", poke_interval=poke_interval)
    hook.get_artwork.return_value = artwork("processing")
    context = task_context()
    context["ti"].get_first_reschedule_date = lambda context: None  # type: ignore[attr-defined]
    before = datetime.now(timezone.utc)
    with pytest.raises(AirflowRescheduleException) as rescheduled:
        task.execute(context)
    delay = (rescheduled.value.reschedule_date - before).total_seconds()
    assert least_delay <= delay < least_delay + 5


def test_the_settle_time_is_an_airflow_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__TENGR__REQUEUE_SETTLE_SECONDS", "0")
    task, hook = sensor(deferrable=True, poke_interval=1)
    hook.get_artwork.return_value = artwork("processing")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context())
    assert deferred.value.trigger.not_before <= time.time()


def test_a_negative_settle_time_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__TENGR__REQUEUE_SETTLE_SECONDS", "-1")
    task, hook = sensor(deferrable=True, poke_interval=1)
    hook.get_artwork.return_value = artwork("processing")
    with pytest.raises(ValueError, match=r"\[tengr\] requeue_settle_seconds: must be >= 0"):
        task.execute(task_context())


def test_under_dag_test_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """dag.test() runs the trigger inline in the task's process: there is no executor report to wait for."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms

    monkeypatch.setattr(
        task_runner, "SUPERVISOR_COMMS", object.__new__(InProcessSupervisorComms), raising=False
    )
    task, hook = sensor(deferrable=True, poke_interval=1)
    hook.get_artwork.return_value = artwork("processing")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context())
    assert deferred.value.trigger.not_before <= time.time()
