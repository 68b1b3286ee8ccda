"""One production-shaped deployment for the whole tier, and the logs folder named on every failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.deployment.cluster import Deployment

PROJECT = Path(__file__).resolve().parents[2]
_LOGS_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    """PostgreSQL, Redis, moto S3, the emulator, and Airflow's seven processes, started once and stopped."""
    root = tmp_path_factory.mktemp("deployment")
    dags = root / "dags"
    dags.mkdir()
    # The examples exactly as users copy them, and the tier's own batch DAG.
    for source in [
        *sorted((PROJECT / "dags_examples").glob("*.py")),
        PROJECT / "tests/deployment/dags/deployment_batch.py",
    ]:
        shutil.copy(source, dags / source.name)
    request.config.stash[_LOGS_KEY] = root / "logs"
    # Long enough for a triggerer to be killed while it holds waits; short enough for a quick tier.
    with Deployment(root, dags, emulator_args=("--processing-seconds", "6")) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    logs = item.config.stash.get(_LOGS_KEY, None)
    if report.failed and logs is not None:
        report.sections.append(("deployment logs", f"every process's log is in {logs}{os.sep}"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier out of ``make test``: it runs only when asked for with ``-m deployment``."""
    expression = config.option.markexpr or ""
    if "deployment" in expression and "not deployment" not in expression:
        return
    here = Path(__file__).parent
    kept = [item for item in items if here not in Path(str(item.path)).parents]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
