"""Batches in one task for the integration tests: ``count`` photo-pilot items, deferrable or polling.

Params: ``count`` (items), ``output_path``, ``endpoint`` and ``bad_every`` (every n-th item breaks a rule,
0 for none); ``shift`` changes every prompt, as moved upstream data would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from tengr_provider.operators import TengrBatchOperator

PARAMS = {
    "count": Param(20, type="integer", minimum=0),
    "output_path": Param("file:///tmp/tengr-it-batch", type="string"),
    "bad_every": Param(0, type="integer", minimum=0),
    "shift": Param(0, type="integer"),
}

for dag_id, deferrable in (("it_batch", True), ("it_batch_polling", False)):
    with DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, params=PARAMS):

        @task
        def items(**context: Any) -> list[dict[str, Any]]:
            params = context["params"]
            bad_every = int(params["bad_every"])
            return [
                {
                    "image_url": f"https://images.example.com/catalog/{n:05d}.png",
                    "image_guidance": 1,
                    "modification": 2,
                    "creativity": 2,
                    "effort": 6 if bad_every and n % bad_every == bad_every - 1 else 2,
                    "prompt": f"product {n + int(params['shift'])} on white",
                    "width": 512,
                    "height": 512,
                }
                for n in range(int(params["count"]))
            ]

        TengrBatchOperator(
            task_id="batch",
            endpoint="photo-pilot",
            requests=items(),
            output_path="{{ params.output_path }}",
            max_in_flight=200,
            poll_interval=0.5,
            deferrable=deferrable,
            retries=1,
            retry_delay=timedelta(seconds=0),
        )
