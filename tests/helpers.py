"""Values and small helpers shared by the test modules."""

from __future__ import annotations

import json
from collections.abc import Callable

from airflow import __version__ as _airflow_version
from packaging.version import Version

#: The Airflow version the suite runs on (3.3 is the main target, 3.0 the floor).
AIRFLOW_VERSION = Version(_airflow_version)

#: Returns everything logged so far, whichever logging stack Airflow uses (see the ``logs`` fixture).
LogText = Callable[[], str]

#: A key that must never show up in logs, errors, XComs or reprs; tests scan for it.
SECRET_KEY = "tk-secret-0123456789abcdef"
BASE_URL = "https://api.tengr.test"


def connection_env(conn_id: str = "tengr_default", **fields: object) -> tuple[str, str]:
    """The environment variable that defines a tengr connection to BASE_URL with SECRET_KEY."""
    value = {"conn_type": "tengr", "host": BASE_URL, "password": SECRET_KEY, **fields}
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value)
