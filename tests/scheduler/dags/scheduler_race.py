"""Quick artworks waited on with Airflow's default of no retries: a task the scheduler fails fails the run.

``TENGR_RACE_TASKS`` (default 100) sets how many artworks each DAG maps over.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

IMAGES = [f"https://example.com/race/{n}.png" for n in range(int(os.environ.get("TENGR_RACE_TASKS", "100")))]
REQUEST = dict(image_guidance=1, modification=2, creativity=2, effort=2)
# Eight at a time: SQLite (what airflow standalone runs on) fails writes under more.
LIMITS = dict(start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=8)

with DAG("tengr_race_deferred", schedule=None, **LIMITS):
    TengrPhotoPilotOperator.partial(
        task_id="restyle", **REQUEST, deferrable=True, poll_interval=1, timeout=600, retries=0
    ).expand(image_url=IMAGES)

with DAG("tengr_race_rescheduled", schedule=None, **LIMITS):
    created = TengrPhotoPilotOperator.partial(
        task_id="create", **REQUEST, wait_for_completion=False, retries=0
    ).expand(image_url=IMAGES)
    TengrArtworkSensor.partial(
        task_id="sense", mode="reschedule", poke_interval=1, timeout=600, retries=0
    ).expand(artwork_id=created.output.map(lambda artwork: artwork["id"]))
