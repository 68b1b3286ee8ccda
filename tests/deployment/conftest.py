"""One production-shaped deployment for the whole tier, and the logs folder named on every failure."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.deployment.cluster import Deployment
from tests.helpers import TIER_LOGS, keep_tier_out_unless_asked, point_failures_at_tier_logs

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    """PostgreSQL, Redis, moto S3, the emulator, and Airflow's seven processes, started once and stopped."""
    root = tmp_path_factory.mktemp("deployment")
    dags = root / "dags"
    dags.mkdir()
    # The examples exactly as users copy them, and the tier's own batch DAGs.
    for source in [
        *sorted((PROJECT / "dags_examples").glob("*.py")),
        *sorted((PROJECT / "tests/deployment/dags").glob("*.py")),
    ]:
        shutil.copy(source, dags / source.name)
    request.config.stash[TIER_LOGS] = root / "logs"
    # Long enough for a triggerer to be killed while it holds waits; short enough for a quick tier.
    with Deployment(root, dags, emulator_args=("--processing-seconds", "6")) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    point_failures_at_tier_logs(item, outcome.get_result(), "deployment logs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier out of ``make test``: it runs only when asked for with ``-m deployment``."""
    keep_tier_out_unless_asked(config, items, "deployment", Path(__file__).parent)
