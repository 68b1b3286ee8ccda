"""Faults of the deployment itself, one at a time, mid-batch: a lost worker, a lost triggerer, a
restarted scheduler. Each time the run completes, nothing is created twice, nothing is lost or
half-written. The killed process is started again afterwards, so every test begins with the whole
deployment.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from tests.deployment.cluster import Deployment
from tests.deployment.support import (
    PNG_SIGNATURE,
    created_ids,
    creation_count,
    stored_objects,
    trigger_firings,
)
from tests.helpers import wait_for

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(420)]

DAG_ID = "deployment_batch"
BATCH = 16


def assert_whole(
    deployment: Deployment, run_id: str, before: int, dag_id: str = DAG_ID, count: int = BATCH
) -> dict[int, dict[str, object]]:
    """The run's artworks were created once each and every one is stored whole."""
    results = deployment.return_values(dag_id, run_id, "restyle")
    ids = {str(result["id"]) for result in results.values()}
    assert len(results) == len(ids) == count
    assert sorted(created_ids(deployment, before)) == sorted(ids), "an artwork was created twice"
    objects, hidden = stored_objects(deployment, f"batch/{run_id}/")
    assert sorted(key.rpartition("/")[2] for key in objects) == sorted(f"{i}_0.png" for i in ids)
    assert all(body.startswith(PNG_SIGNATURE) for body in objects.values()), "a file is half-written"
    # A write cut by SIGKILL may leave its hidden temporary object; never a file under its final name.
    print(f"\n{len(hidden)} hidden temporary object(s) left by the fault: {hidden}")
    return results


@pytest.fixture
def restore(deployment: Deployment) -> Iterator[list[str]]:
    """Start again whatever the test killed, and wait until it is back."""
    killed: list[str] = []
    yield killed
    for name in killed:
        if not deployment.processes[name].alive:
            deployment.start_airflow(name)
    if any(name.startswith("worker") for name in killed):
        wait_for(lambda: deployment.workers_online() == {"worker1", "worker2"}, 120, "both workers back")


def test_a_worker_lost_mid_batch(deployment: Deployment, restore: list[str]) -> None:
    # Waits on the workers (deferrable=False), one per slot: once all are created, worker1 surely holds
    # some of them mid-wait, and none is between its create and the task state store.
    dag_id, count = "deployment_batch_polling", 8
    before = creation_count(deployment)
    run_id = deployment.trigger(dag_id, {"count": count})
    wait_for(
        lambda: creation_count(deployment) - before >= count, 240, "every artwork to be created", every=0.2
    )
    deployment.processes["worker1"].kill()
    restore.append("worker1")
    killed_at = time.monotonic()
    deployment.wait_for_run(dag_id, run_id, timeout=300)
    states = deployment.task_states(dag_id, run_id)
    retried = {task: tries for task, (_, tries) in states.items() if tries > 1}
    assert retried, "the kill hit no task: nothing was retried"
    assert_whole(deployment, run_id, before, dag_id, count)
    print(f"worker1 killed; retried {retried}; run ended {time.monotonic() - killed_at:.0f} s later")


def test_a_triggerer_lost_while_it_holds_waits(deployment: Deployment, restore: list[str]) -> None:
    before = creation_count(deployment)
    run_id = deployment.trigger(DAG_ID, {"count": BATCH})
    holding = (
        "select t.triggerer_id, count(*) from task_instance ti join trigger t on ti.trigger_id = t.id "
        "where ti.dag_id = %s and ti.run_id = %s and t.triggerer_id is not null group by t.triggerer_id"
    )
    held: dict[int, int] = wait_for(
        lambda: {job: n for job, n in deployment.sql(holding, (DAG_ID, run_id)) if n >= 3},
        240,
        "a triggerer to hold waits of the batch",
        0.2,
    )
    # Kill the triggerer that holds the most of this batch's waits.
    job = max(held, key=held.__getitem__)
    (victim,) = [name for name, triggerer_job in deployment.triggerer_jobs.items() if triggerer_job == job]
    deployment.processes[victim].kill()
    restore.append(victim)
    killed_at = time.monotonic()
    deployment.wait_for_run(DAG_ID, run_id, timeout=300)
    assert_whole(deployment, run_id, before)
    firings = trigger_firings(deployment, DAG_ID, run_id)
    # The waits the dead triggerer held were run again elsewhere: every artwork's wait fired.
    assert len(firings.per_artwork) == BATCH
    others = set(firings.per_triggerer) - {job}
    assert others, "no other triggerer took the waits over"
    print(
        f"{victim} (job {job}) killed holding waits {held}; events fired per triggerer job "
        f"{dict(firings.per_triggerer)}, per artwork {sorted(set(firings.per_artwork.values()))}; "
        f"run ended {time.monotonic() - killed_at:.0f} s later"
    )


def test_a_scheduler_restarted_mid_batch(deployment: Deployment, restore: list[str]) -> None:
    before = creation_count(deployment)
    run_id = deployment.trigger(DAG_ID, {"count": BATCH})
    wait_for(
        lambda: creation_count(deployment) - before >= BATCH // 2, 240, "half the batch created", every=0.2
    )
    scheduler = deployment.processes["scheduler"]
    scheduler.stop()
    restore.append("scheduler")
    deployment.start_airflow("scheduler")
    deployment.wait_for_run(DAG_ID, run_id, timeout=300)
    assert_whole(deployment, run_id, before)
