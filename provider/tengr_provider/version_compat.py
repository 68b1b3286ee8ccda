"""The one place that knows where Airflow keeps things across 3.x.

Airflow 3.0 has no ``airflow.sdk.BaseHook``; 3.3 moved exceptions to ``airflow.sdk.exceptions`` and
added ``ResumableJobMixin``. ``apache-airflow-providers-common-compat`` tracks those moves (newest path
first), so every Airflow name the provider uses is imported from here and nowhere else.
"""

from __future__ import annotations

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
from airflow.providers.common.compat.sdk import (
    AirflowException,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Connection,
    Context,
    ObjectStoragePath,
    PokeReturnValue,
    conf,
)

__all__ = [
    "AirflowException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "Connection",
    "Context",
    "ObjectStoragePath",
    "PokeReturnValue",
    "conf",
    "get_async_connection",
    "get_async_extra_dejson",
]
