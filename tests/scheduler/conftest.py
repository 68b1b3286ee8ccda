"""The scheduler tier: ``airflow standalone`` (a real scheduler, triggerer and LocalExecutor), not
``dag.test()``, which runs triggers inline and never shows what the scheduler does between two tries.

One Airflow for the tier: the example DAGs users copy, and the tier's own DAGs (``dags/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import TIER_LOGS, keep_tier_out_unless_asked, point_failures_at_tier_logs
from tests.standalone import StandaloneAirflow

#: Seconds each emulator artwork takes: quick, well inside the scheduler's race window.
PROCESSING_SECONDS = float(os.environ.get("TENGR_RACE_PROCESSING_SECONDS", "2"))


@pytest.fixture(scope="session")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[StandaloneAirflow]:
    root = tmp_path_factory.mktemp("scheduler")
    request.config.stash[TIER_LOGS] = root / "logs"
    tier_dags = {path.name: path.read_text() for path in (Path(__file__).parent / "dags").glob("*.py")}
    with StandaloneAirflow(root, dag_files=tier_dags, processing_seconds=PROCESSING_SECONDS) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    point_failures_at_tier_logs(item, outcome.get_result(), "airflow standalone logs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier out of ``make test``: it runs only when asked for with ``-m scheduler``."""
    keep_tier_out_unless_asked(config, items, "scheduler", Path(__file__).parent)
