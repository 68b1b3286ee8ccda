"""The fault-injection suite's DAGs (``tests/integration/test_faults.py``).

A batch of artworks is restyled with photo-pilot, each result upscaled, and every image stored under
``dag_run.conf['output_path']``, while the emulator injects one kind of fault per test. Photo-pilot
asks for 512x512 (LOW guidance) so the images stay small and the suite fast; the upscale runs for
every restyle that succeeded (``all_done``), so one failed artwork does not hold back the others.
"""

from __future__ import annotations

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator, TengrUpscaleOperator

#: Artworks per batch.
BATCH = 30
SAMPLES = "{{ conn.tengr_default.host }}/samples"
OUTPUT = "{{ dag_run.conf['output_path'] }}"


def first_result(artwork: dict) -> str:
    return artwork["results"][0]


for mode in ("poll", "deferrable"):
    with DAG(f"it_faults_{mode}", schedule=None, catchup=False, tags=["integration", "faults"]):
        restyled = TengrPhotoPilotOperator.partial(
            task_id="restyle",
            image_guidance=1,
            modification=3,
            creativity=2,
            effort=2,
            width=512,
            height=512,
            output_path=f"{OUTPUT}/restyled",
            deferrable=mode == "deferrable",
            poll_interval=0.1,
            timeout=120,
        ).expand(image_url=[f"{SAMPLES}/item-{n:02d}.png?width=512&height=512" for n in range(BATCH)])
        TengrUpscaleOperator.partial(
            task_id="upscale",
            scale_factor=2,
            output_path=f"{OUTPUT}/print",
            deferrable=mode == "deferrable",
            poll_interval=0.1,
            trigger_rule="all_done",
        ).expand(image_url=restyled.output.map(first_result))
