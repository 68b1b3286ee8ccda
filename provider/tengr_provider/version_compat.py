"""The one place that knows where Airflow keeps things across 3.x.

Airflow 3.0 has no ``airflow.sdk.BaseHook``; 3.3 moved exceptions to ``airflow.sdk.exceptions`` and
added ``ResumableJobMixin`` (below 3.3 common-compat hands out a stand-in that submits on every try,
since there is no task state store to resume from) and retry policies (below 3.3 there are none:
``HAS_RETRY_POLICIES`` is False and ``RetryPolicy`` a plain base class, so our policy still imports).
``apache-airflow-providers-common-compat`` tracks those moves (newest path first), so every Airflow
name the provider uses is imported from here and nowhere else, with two exceptions that are imported
where they are used because they may be absent: OpenLineage's classes (``lineage.py``; the OpenLineage
provider is optional) and the metadata database's ``Connection`` (``doctor/connection.py``; a command
line tool, outside any task, may read connections stored there). A test holds the rule.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

# The class the SDK's sensors raise to reschedule, on every 3.x (3.3 re-exports the SDK's own here).
from airflow.exceptions import AirflowRescheduleException
from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowSensorTimeout,
    Asset,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Connection,
    Context,
    DecoratedOperator,
    ObjectStoragePath,
    PokeReturnValue,
    ResumableJobMixin,
    TaskDecorator,
    XCom,
    conf,
    context_merge,
    determine_kwargs,
    task_decorator_factory,
)

# The trigger base and its event: the same path on every 3.x.
from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:  # names only annotations use
    from airflow.sdk.bases.decorator import Task as Task
    from airflow.sdk.types import TaskInstanceKey as TaskInstanceKey

try:
    from airflow.providers.common.compat.sdk import RetryDecision, RetryPolicy

    HAS_RETRY_POLICIES = True
except (ImportError, AttributeError):  # Airflow < 3.3: no retry_policy= on operators
    HAS_RETRY_POLICIES = False
    RetryDecision = None  # type: ignore[assignment,misc]
    RetryPolicy = abc.ABC  # type: ignore[assignment,misc]


def runs_in_process() -> bool:
    """Whether this task runs under ``dag.test()``: task and trigger in this one process, no executor.

    Airflow 3.0 to 3.3 run such a task with ``InProcessSupervisorComms`` in ``task_runner``'s
    ``SUPERVISOR_COMMS`` (a worker's task has its real comms there; outside a task there are none).
    """
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover - every supported Airflow has the Task SDK
        return False
    return type(getattr(task_runner, "SUPERVISOR_COMMS", None)).__name__ == "InProcessSupervisorComms"


__all__ = [
    "HAS_RETRY_POLICIES",
    "AirflowException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "Asset",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Connection",
    "Context",
    "DecoratedOperator",
    "ObjectStoragePath",
    "PokeReturnValue",
    "ResumableJobMixin",
    "RetryDecision",
    "RetryPolicy",
    "TaskDecorator",
    "TriggerEvent",
    "XCom",
    "conf",
    "context_merge",
    "determine_kwargs",
    "get_async_connection",
    "get_async_extra_dejson",
    "runs_in_process",
    "task_decorator_factory",
]
