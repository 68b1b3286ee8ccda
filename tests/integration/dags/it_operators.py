"""DAGs the integration tests run with ``dag.test()`` against the local emulator.

Sample source images come from the emulator itself (``<connection host>/samples/...``), and each run's
``output_path`` comes from ``dag_run.conf``, so one file serves every test.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

SAMPLES = "{{ conn.tengr_default.host }}/samples"
OUTPUT = "{{ dag_run.conf['output_path'] }}"
PHOTO_DEFAULTS = {"image_guidance": 1, "modification": 3, "creativity": 2, "effort": 2, "aspect_ratio": "1:1"}


def first_result(artwork: dict) -> str:
    return artwork["results"][0]


for mode in ("poll", "deferrable"):
    with DAG(f"it_chain_{mode}", schedule=None, catchup=False, tags=["integration"]):
        restyled = TengrPhotoPilotOperator.partial(
            task_id="restyle",
            output_path=f"{OUTPUT}/restyled",
            deferrable=mode == "deferrable",
            poll_interval=0.2,
            timeout=60,
            **PHOTO_DEFAULTS,
        ).expand(image_url=[f"{SAMPLES}/shoe-{n}.png" for n in range(3)])
        TengrUpscaleOperator.partial(
            task_id="upscale",
            scale_factor=2,
            output_path=f"{OUTPUT}/print",
            deferrable=mode == "deferrable",
            poll_interval=0.2,
        ).expand(image_url=restyled.output.map(first_result))

with DAG("it_style_dna", schedule=None, catchup=False, tags=["integration"]):
    TengrStyleDnaOperator(
        task_id="style",
        visual_prompt="{{ dag_run.conf.get('visual_prompt', 'neon noir') }}",
        anchor_image_url=f"{SAMPLES}/anchor.png",
        description="a red sneaker on a table",
        aspect_ratio="16:9",
        image_format="webp",
        output_path=OUTPUT,
    )

for mode in ("poke", "reschedule", "deferrable"):
    with DAG(f"it_sensor_{mode}", schedule=None, catchup=False, tags=["integration"]):
        submitted = TengrPhotoPilotOperator(
            task_id="submit",
            image_url=f"{SAMPLES}/bag.png",
            wait_for_completion=False,
            **PHOTO_DEFAULTS,
        )
        waited = TengrArtworkSensor(
            task_id="wait",
            artwork_id="{{ ti.xcom_pull(task_ids='submit')['id'] }}",
            mode="poke" if mode == "deferrable" else mode,
            deferrable=mode == "deferrable",
            poke_interval=0.5 if mode != "reschedule" else 1,
            timeout=60,
        )
        submitted >> waited

with DAG("it_resume_after_wait_timeout", schedule=None, catchup=False, tags=["integration"]):
    # The first try's wait times out while the artwork is still processing; the retry must pick up
    # the artwork the first try created (task state store, Airflow 3.3+) instead of creating another.
    TengrPhotoPilotOperator(
        task_id="restyle",
        image_url=f"{SAMPLES}/lamp.png",
        poll_interval=0.2,
        timeout=1,
        retries=1,
        retry_delay=timedelta(seconds=0),
        output_path=OUTPUT,
        **PHOTO_DEFAULTS,
    )
