"""Mapped batches over two Celery workers and two triggerers, with Airflow's default of no retries: a
deferrable batch of 100 artworks, and reschedule-mode sensors. No task may be failed by the scheduler
for a quick artwork (the stale-executor race, docs/deferrable.md).

``TENGR_RACE_RUNS`` (default 1) repeats each test; ``TENGR_RACE_TASKS`` sets the batch's size.
"""

from __future__ import annotations

import os

import pytest
from tests.deployment.cluster import Deployment
from tests.deployment.support import (
    PNG_SIGNATURE,
    created_ids,
    creation_count,
    stored_objects,
    tasks_per_worker,
    trigger_firings,
)

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(600)]

DAG_ID = "deployment_batch_no_retries"
BATCH = int(os.environ.get("TENGR_RACE_TASKS", "100"))
ROUNDS = range(int(os.environ.get("TENGR_RACE_RUNS", "1")))
#: Reschedule-mode sensors: fewer, since each costs two to three task executions under Celery.
SENSED = 30


@pytest.mark.parametrize("round_", ROUNDS)
def test_a_mapped_batch_is_created_once_waited_once_and_stored_whole(
    deployment: Deployment, round_: int
) -> None:
    before = creation_count(deployment)
    run_id = deployment.trigger(DAG_ID, {"count": BATCH})
    deployment.wait_for_run(DAG_ID, run_id, timeout=540)

    results = deployment.return_values(DAG_ID, run_id, "restyle")
    ids = {result["id"] for result in results.values()}
    assert len(results) == len(ids) == BATCH
    # The emulator saw exactly one creation per mapped task: nothing created twice.
    assert sorted(created_ids(deployment, before)) == sorted(ids)

    firings = trigger_firings(deployment, DAG_ID, run_id)
    assert set(firings.per_artwork) == ids
    assert set(firings.per_artwork.values()) == {1}, "a trigger fired more than once"
    assert len(firings.per_triggerer) == 2, (
        f"the waits did not spread over both triggerers: {firings.per_triggerer}"
    )
    workers = tasks_per_worker(deployment, DAG_ID, run_id)
    assert all(workers.values()), f"the tasks did not spread over both workers: {workers}"

    objects, hidden = stored_objects(deployment, f"batch/{run_id}/")
    assert hidden == [], f"temporary objects left: {hidden}"
    assert sorted(key.rpartition("/")[2] for key in objects) == sorted(f"{i}_0.png" for i in ids)
    assert all(body.startswith(PNG_SIGNATURE) for body in objects.values())
    assert sorted(f for r in results.values() for f in r["files"]) == sorted(
        f"s3://aws_default@tengr-deployment/{key}" for key in objects
    )
    spread = f"events per triggerer job {dict(firings.per_triggerer)}, tasks per worker {workers}"
    print(f"\nbatch of {BATCH}: {spread}")
    assert {tries for _, tries in deployment.task_states(DAG_ID, run_id).values()} == {1}


@pytest.mark.parametrize("round_", ROUNDS)
def test_rescheduled_sensors_of_quick_artworks_all_succeed_without_retries(
    deployment: Deployment, round_: int
) -> None:
    dag_id = "deployment_batch_rescheduled"
    run_id = deployment.trigger(dag_id, {"count": SENSED})
    deployment.wait_for_run(dag_id, run_id, timeout=540)
    states = deployment.task_states(dag_id, run_id)
    assert len(states) == 1 + 2 * SENSED
    assert {state for state, _ in states.values()} == {"success"}
