"""The scheduler tier: ``airflow standalone`` (a real scheduler, triggerer and LocalExecutor), not
``dag.test()``, which runs triggers inline and never shows what the scheduler does between two tries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import keep_tier_out_unless_asked, point_failures_at_tier_logs


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    point_failures_at_tier_logs(item, outcome.get_result(), "airflow standalone logs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier out of ``make test``: it runs only when asked for with ``-m scheduler``."""
    keep_tier_out_unless_asked(config, items, "scheduler", Path(__file__).parent)
