"""2,000 artworks in ONE task under Celery, PostgreSQL and S3, its worker SIGKILLed twice: while it
submits, and while it copies. The retries resume from the ledger in S3: exactly 2,000 creations, 2,000
files, no temporary object left, a manifest of 2,000 lines."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.deployment.cluster import Deployment
from tests.deployment.support import PNG_SIGNATURE, creation_count
from tests.helpers import wait_for

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(600)]

DAG_ID = "deployment_batch_one_task"
COUNT = 2000


def stored_pngs(deployment: Deployment, run_id: str) -> list[str]:
    return [key for key in deployment.s3_keys(f"one-task/{run_id}/") if key.endswith(".png")]


def batch_executions(deployment: Deployment, run_id: str) -> dict[str, int]:
    """How many executions of the batch task each worker started (from its own log)."""
    marker = f"log_path='dag_id={DAG_ID}/run_id={run_id}/task_id=batch/"
    return {name: text.count(marker) for name, text in deployment.logs_of("worker")}


def running_worker(deployment: Deployment, run_id: str, seen: dict[str, int]) -> str:
    """The worker that started the batch's latest execution (its log names one more execution)."""

    def started() -> str | None:
        grown = [name for name, n in batch_executions(deployment, run_id).items() if n > seen.get(name, 0)]
        return grown[0] if grown else None

    name: str = wait_for(started, 240, "the batch to start on a worker", every=0.2)
    seen.update(batch_executions(deployment, run_id))
    return name


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), read from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def lose_worker(deployment: Deployment, name: str) -> None:
    """SIGKILL a Celery worker and every process it started, as a lost machine: the task runners sit in
    process groups of their own, so killing the worker's group alone would leave them running."""
    process = deployment.processes[name]
    assert process.popen is not None
    for pid in descendants(process.popen.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.kill()


def ledger_segments(deployment: Deployment, run_id: str) -> int:
    """Ledger segments in place (not the hidden temporaries they are written through)."""
    keys = deployment.s3_keys(f"one-task/{run_id}/_tengr_batch/")
    return sum("/log/" in key and not key.rpartition("/")[2].startswith(".") for key in keys)


@pytest.fixture
def restart_workers(deployment: Deployment) -> Iterator[None]:
    yield
    for name in ("worker1", "worker2"):
        if not deployment.processes[name].alive:
            deployment.start_airflow(name)
    wait_for(lambda: deployment.workers_online() == {"worker1", "worker2"}, 120, "both workers back")


@pytest.mark.usefixtures("restart_workers")
def test_a_batch_of_2000_in_one_task_survives_two_lost_workers(deployment: Deployment) -> None:
    before = creation_count(deployment)
    run_id = deployment.trigger(DAG_ID, {"count": COUNT})
    seen: dict[str, int] = {}
    started = time.monotonic()

    # 1. Mid-submission: the second wave's intents are durable, so its creates are going out.
    victim = running_worker(deployment, run_id, seen)
    wait_for(lambda: ledger_segments(deployment, run_id) >= 2, 240, "two ledger segments", every=0.05)
    lose_worker(deployment, victim)
    at_first_kill = creation_count(deployment) - before
    deployment.start_airflow(victim)

    # 2. Mid-copy: the retry resumed, every artwork created, a third of the files stored.
    victim = running_worker(deployment, run_id, seen)
    wait_for(lambda: len(stored_pngs(deployment, run_id)) >= COUNT // 3, 300, "a third stored", every=0.2)
    lose_worker(deployment, victim)
    at_second_kill = len(stored_pngs(deployment, run_id))
    deployment.start_airflow(victim)

    deployment.wait_for_run(DAG_ID, run_id, timeout=480)
    (batch_state, tries) = deployment.task_states(DAG_ID, run_id)["batch"]
    assert batch_state == "success"
    assert tries >= 3  # two lost tries, then the one that finished

    created = deployment.emulator_stats()["artworks"][before:]
    assert 0 < at_first_kill < COUNT, "the first kill did not fall between the first and the last create"
    assert len(created) == COUNT, f"{len(created) - COUNT} artworks created twice"
    keys = deployment.s3_keys(f"one-task/{run_id}/")
    pngs = [key for key in keys if key.endswith(".png") and "/_tengr" not in key]
    assert sorted(key.rpartition("/")[2] for key in pngs) == sorted(f"{a['id']}_0.png" for a in created)
    assert [key for key in keys if key.rpartition("/")[2].startswith(".")] == [], "temporary objects left"
    for key in pngs[:: COUNT // 20]:
        assert deployment.s3_object(key).startswith(PNG_SIGNATURE)

    (summary,) = deployment.return_values(DAG_ID, run_id, "batch").values()
    assert summary["counts"]["succeeded"] == summary["counts"]["total"] == COUNT
    manifest_key = summary["manifest"].removeprefix("s3://").partition("/")[2]
    lines = [json.loads(line) for line in deployment.s3_object(manifest_key).decode().splitlines()]
    assert [line["index"] for line in lines] == list(range(COUNT))
    assert {line["artwork_id"] for line in lines} == {a["id"] for a in created}
    adopted = sum(
        deployment.s3_object(key).count(b'"adopted":true')
        for key in keys
        if "/_tengr_batch/" in key and "/log/" in key
    )
    print(
        f"\n{COUNT} in one task: first kill at {at_first_kill} created, second at {at_second_kill} stored; "
        f"{tries} tries, {adopted} lost creates adopted, {time.monotonic() - started:.0f} s"
    )
