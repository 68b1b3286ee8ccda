"""The one place that knows where Airflow keeps things across 3.x.

Airflow 3.0 has no ``airflow.sdk.BaseHook``; 3.3 moved exceptions to ``airflow.sdk.exceptions`` and
added ``ResumableJobMixin`` (below 3.3 common-compat hands out a stand-in that submits on every try,
since there is no task state store to resume from) and retry policies (below 3.3 there are none:
``HAS_RETRY_POLICIES`` is False and ``RetryPolicy`` a plain base class, so our policy still imports).
``apache-airflow-providers-common-compat`` tracks those moves (newest path first), so every Airflow
name the provider uses is imported from here and nowhere else.
"""

from __future__ import annotations

import abc

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

try:
    from airflow.providers.common.compat.sdk import RetryDecision, RetryPolicy

    HAS_RETRY_POLICIES = True
except (ImportError, AttributeError):  # Airflow < 3.3: no retry_policy= on operators
    HAS_RETRY_POLICIES = False
    RetryDecision = None  # type: ignore[assignment,misc]
    RetryPolicy = abc.ABC  # type: ignore[assignment,misc]

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
    "Connection",
    "Context",
    "DecoratedOperator",
    "ObjectStoragePath",
    "PokeReturnValue",
    "ResumableJobMixin",
    "RetryDecision",
    "RetryPolicy",
    "TaskDecorator",
    "XCom",
    "conf",
    "context_merge",
    "determine_kwargs",
    "get_async_connection",
    "get_async_extra_dejson",
    "task_decorator_factory",
]
