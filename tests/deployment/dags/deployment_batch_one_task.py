"""A batch of ``count`` artworks in ONE task for the deployment tier: its requests a JSONL file in S3,
its images, ledger and manifest under ``output_path/<run_id>``.

``max_in_flight`` is the whole batch, so the one task keeps submitting (and copying what finished) for
as long as there is something to submit: a worker killed meanwhile surely holds the batch.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, ObjectStoragePath, Param, task

from tengr_provider.operators import TengrBatchOperator

with DAG(
    dag_id="deployment_batch_one_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "count": Param(2000, type="integer", minimum=1),
        "output_path": Param("s3://aws_default@tengr-deployment/one-task", type="string"),
    },
):

    @task
    def requests_file(**context: Any) -> str:
        params = context["params"]
        target = ObjectStoragePath(f"{params['output_path']}/{context['run_id']}-requests.jsonl")
        with target.open("w") as out:
            for n in range(int(params["count"])):
                item = {
                    "image_url": f"https://images.example.com/one-task/{n:05d}.png",
                    "image_guidance": 1,
                    "modification": 2,
                    "creativity": 2,
                    "effort": 2,
                    "width": 512,
                    "height": 512,
                }
                out.write(json.dumps(item) + "\n")
        return str(target)

    TengrBatchOperator(
        task_id="batch",
        endpoint="photo-pilot",
        requests_path=requests_file(),
        output_path="{{ params.output_path }}/{{ run_id }}",
        max_in_flight=10_000,
        poll_interval=2,
        deferrable=True,
        retries=4,
        retry_delay=timedelta(seconds=2),
    )
