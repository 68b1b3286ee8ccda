"""Mapped batches for the deployment tier: ``count`` artworks, each waited on in a triggerer
(``deployment_batch``; ``deployment_batch_no_retries`` with Airflow's default of no retries, so a task
the scheduler fails fails the run), on its worker (``deployment_batch_polling``, so a killed worker
surely holds waits), or by a reschedule-mode sensor (``deployment_batch_rescheduled``, no retries).

Each run writes under its own folder (``run_id``), so the test can count exactly that run's files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from tengr_provider.operators import TengrPhotoPilotOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

REQUEST = dict(image_guidance=1, modification=2, creativity=2, effort=2, aspect_ratio="1:1")


@task
def photos(**context: Any) -> list[str]:
    count = int(context["params"]["count"])
    return [f"https://images.example.com/batch/{n:04d}.png" for n in range(count)]


def batch_dag(dag_id: str) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=64,
        params={
            "count": Param(200, type="integer", minimum=1),
            "output_path": Param("s3://aws_default@tengr-deployment/batch", type="string"),
        },
    )


for dag_id, deferrable, retries in (
    ("deployment_batch", True, 3),
    ("deployment_batch_polling", False, 3),
    ("deployment_batch_no_retries", True, 0),
):
    with batch_dag(dag_id):
        TengrPhotoPilotOperator.partial(
            task_id="restyle",
            **REQUEST,
            output_path="{{ params.output_path }}/{{ run_id }}",
            deferrable=deferrable,
            poll_interval=2,
            timeout=600,
            retries=retries,
            retry_delay=timedelta(seconds=2),
        ).expand(image_url=photos())

with batch_dag("deployment_batch_rescheduled"):
    submitted = TengrPhotoPilotOperator.partial(
        task_id="submit", **REQUEST, wait_for_completion=False, retries=0
    ).expand(image_url=photos())
    TengrArtworkSensor.partial(
        task_id="sense", mode="reschedule", poke_interval=1, timeout=600, retries=0
    ).expand(artwork_id=submitted.output.map(lambda artwork: artwork["id"]))
