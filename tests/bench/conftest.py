"""The benchmarks measure the main target (Airflow 3.3+); their smoke runs only make sense there."""

from __future__ import annotations

import pytest
from packaging.version import Version
from tests.helpers import AIRFLOW_VERSION


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if Version("3.3") > AIRFLOW_VERSION:
        skip = pytest.mark.skip(reason="benchmarks run on the main target, Airflow 3.3+")
        for item in items:
            if "tests/bench/" in str(item.path):
                item.add_marker(skip)
