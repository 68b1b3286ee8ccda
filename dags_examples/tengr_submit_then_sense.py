"""Submit now, wait later: the pattern for very long jobs, or for flows where a webhook reports back.

The create task returns at once (``wait_for_completion=False``); sensors wait on the artwork id it
pushed. ``mode="reschedule"`` frees the worker slot between pokes; ``deferrable=True`` moves the whole
wait to the triggerer. Either way the wait costs no slot while tengr.ai works.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

ARTWORK_ID = "{{ ti.xcom_pull(task_ids='submit')['id'] }}"

with DAG(
    dag_id="tengr_submit_then_sense",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
    # A retry costs no credit here: the sensors only read, and the submit task reconnects to the artwork
    # it created (Airflow 3.3+'s task state store). It covers an outage longer than the hook's retries.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
):
    submit = TengrPhotoPilotOperator(
        task_id="submit",
        image_url="https://images.example.com/catalog/sofa-green.png",
        image_guidance=2,
        modification=2,
        creativity=4,
        effort=3,
        prompt="the sofa in a sunlit loft",
        wait_for_completion=False,
    )
    wait_rescheduling = TengrArtworkSensor(
        task_id="wait_rescheduling",
        artwork_id=ARTWORK_ID,
        mode="reschedule",
        poke_interval=5,
        timeout=3600,
    )
    wait_deferred = TengrArtworkSensor(
        task_id="wait_deferred",
        artwork_id=ARTWORK_ID,
        deferrable=True,
        poke_interval=5,
        timeout=3600,
    )
    submit >> [wait_rescheduling, wait_deferred]
