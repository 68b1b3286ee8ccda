"""DAGs the benchmarks run with ``dag.test()``; sizes come from ``TENGR_BENCH_*`` environment variables.

The benchmark copies this file into its temporary DAGs folder (``dag.test()`` runs only DAGs found
there). Sources are the emulator's own sample images, reached through the ``tengr_default``
connection's host, so nothing leaves loopback.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

ARTWORKS = int(os.environ.get("TENGR_BENCH_ARTWORKS", "3"))
POLL_SECONDS = float(os.environ.get("TENGR_BENCH_POLL_SECONDS", "1"))
# Small results (512x512): the benchmarks measure waiting and request handling, not image encoding.
FIELDS: dict[str, Any] = {
    "image_guidance": 1,
    "modification": 3,
    "creativity": 3,
    "effort": 3,
    "width": 512,
    "height": 512,
}
SOURCES = [
    f"{{{{ conn.tengr_default.host }}}}/samples/source-{n}.png?width=512&height=512" for n in range(ARTWORKS)
]


def artwork_id(artwork: dict[str, Any]) -> str:
    """The id in a photo-pilot task's return value."""
    return str(artwork["id"])


# Waiting cost, deferrable: submit, defer, resume; the triggerer (inline in dag.test) does the polling.
with DAG("bench_wait_deferrable", schedule=None, catchup=False, tags=["benchmark"]):
    TengrPhotoPilotOperator.partial(
        task_id="restyle", deferrable=True, poll_interval=POLL_SECONDS, timeout=600, **FIELDS
    ).expand(image_url=SOURCES)

# Waiting cost, poke: a submit task that does not wait, then a sensor that holds its slot while it polls.
with DAG("bench_wait_poke", schedule=None, catchup=False, tags=["benchmark"]):
    submitted = TengrPhotoPilotOperator.partial(task_id="submit", wait_for_completion=False, **FIELDS).expand(
        image_url=SOURCES
    )
    TengrArtworkSensor.partial(task_id="wait", mode="poke", poke_interval=POLL_SECONDS, timeout=600).expand(
        artwork_id=submitted.output.map(artwork_id)
    )

# Batch under a rate limit: one mapped, deferrable photo-pilot task over every source.
with DAG("bench_batch", schedule=None, catchup=False, tags=["benchmark"]):
    TengrPhotoPilotOperator.partial(
        task_id="restyle", deferrable=True, poll_interval=POLL_SECONDS, timeout=600, **FIELDS
    ).expand(image_url=SOURCES)
