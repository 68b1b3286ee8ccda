"""DAGs of the API-version tests: an artwork endpoint without a dedicated operator, polled and deferred."""

from __future__ import annotations

from airflow.sdk import DAG

from tengr_provider.operators import TengrCreateArtworkOperator

SAMPLES = "{{ conn.tengr_default.host }}/samples"
OUTPUT = "{{ dag_run.conf['output_path'] }}"

for mode in ("poll", "deferrable"):
    with DAG(f"it_other_endpoint_{mode}", schedule=None, catchup=False, tags=["integration"]):
        TengrCreateArtworkOperator(
            task_id="cut_out",
            endpoint="remove-background",
            request={"imageUrl": f"{SAMPLES}/cut.png?width=640&height=480", "outputFormat": "png"},
            output_path=f"{OUTPUT}/cutouts",
            deferrable=mode == "deferrable",
            poll_interval=0.2,
            timeout=60,
        )
