"""Mapped batches for the deployment tier: ``count`` artworks, each waited on in a triggerer
(``deployment_batch``) or on its worker (``deployment_batch_polling``, so a killed worker surely holds
waits).

Each run writes under its own folder (``run_id``), so the test can count exactly that run's files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from tengr_provider.operators import TengrPhotoPilotOperator

for dag_id, deferrable in (("deployment_batch", True), ("deployment_batch_polling", False)):
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=64,
        params={
            "count": Param(200, type="integer", minimum=1),
            "output_path": Param("s3://aws_default@tengr-deployment/batch", type="string"),
        },
    ):

        @task
        def photos(**context: Any) -> list[str]:
            count = int(context["params"]["count"])
            return [f"https://images.example.com/batch/{n:04d}.png" for n in range(count)]

        TengrPhotoPilotOperator.partial(
            task_id="restyle",
            image_guidance=1,
            modification=2,
            creativity=2,
            effort=2,
            aspect_ratio="1:1",
            output_path="{{ params.output_path }}/{{ run_id }}",
            deferrable=deferrable,
            poll_interval=2,
            timeout=600,
            retries=3,
            retry_delay=timedelta(seconds=2),
        ).expand(image_url=photos())
