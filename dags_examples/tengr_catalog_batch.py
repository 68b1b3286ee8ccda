"""Catalog scale: a product catalog CSV restyled, then upscaled for print, in two tasks however long it is.

``tengr_catalog_refresh`` maps one task per photo, which suits tens of photos. A catalog of thousands
goes through :class:`~tengr_provider.operators.TengrBatchOperator` instead: one task creates, waits for
and stores every artwork, keeps a ledger beside the images (a retry or a killed worker never pays
twice) and returns a summary whose manifest lists every item. The restyle's manifest feeds the upscale
(only what succeeded), and the upscale's asset event starts ``tengr_catalog_batch_publish`` with the
manifest's URI and the counts. Runs against tengr.ai (API key in ``tengr_default``) or the local
emulator; ``docs/batch.md`` explains the choices.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, ObjectStoragePath, Param, task

from tengr_provider.operators import TengrBatchOperator

PRINT_READY = Asset("tengr://catalog/batch-print-ready")
#: The catalog's columns are photo-pilot request fields; one row per product.
CATALOG_COLUMNS = (
    "image_url",
    "image_guidance",
    "modification",
    "creativity",
    "effort",
    "width",
    "height",
    "prompt",
)

with DAG(
    dag_id="tengr_catalog_batch",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
    params={
        "catalog_csv": Param(
            "",
            type="string",
            description="URI of the catalog CSV (a header of photo-pilot fields, one product per row); "
            "empty writes a sample catalog of sample_size products.",
        ),
        "sample_size": Param(24, type="integer", minimum=1),
        "output_path": Param(
            os.environ.get("TENGR_EXAMPLES_OUTPUT", "file:///tmp/tengr") + "/catalog-batch",
            type="string",
            description="Where images, ledgers and manifests go: shared storage (s3://...) in production.",
        ),
    },
):

    @task
    def catalog(**context: Any) -> str:
        """The catalog's URI: the param, or a sample written to output_path (real catalogs exist already)."""
        params = context["params"]
        if params["catalog_csv"]:
            return str(params["catalog_csv"])
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(CATALOG_COLUMNS)
        for n in range(int(params["sample_size"])):
            image = f"https://images.example.com/catalog/product-{n:05d}.png"
            writer.writerow([image, 1, 2, 3, 3, 512, 512, "studio product shot, seamless white background"])
        target = ObjectStoragePath(f"{params['output_path']}/{context['run_id']}/catalog.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rows.getvalue())
        return str(target)

    restyled = TengrBatchOperator(
        task_id="restyle",
        endpoint="photo-pilot",
        requests_path=catalog(),
        output_path="{{ params.output_path }}/{{ run_id }}/restyled",
        max_in_flight=200,
        max_new_artworks=20_000,  # the cost guard: a catalog that grew tenfold overnight stops here
        max_failed_share=0.02,  # publish when at most 2% of the products failed; the manifest names them
        deferrable=True,
        poll_interval=5,
        retries=2,
        retry_delay=timedelta(minutes=1),
    )

    @task
    def print_requests(restyle: dict[str, Any]) -> str:
        """One upscaling request per restyled image, streamed from the restyle's manifest."""
        manifest = ObjectStoragePath(restyle["manifest"])
        target = ObjectStoragePath(restyle["output_path"]).parent / "print_requests.jsonl"
        with manifest.open("r") as lines, target.open("w") as requests:
            for line in iter(lines.readline, ""):  # Airflow 3.0's open() gives a file without __iter__
                item = json.loads(line)
                if item["status"] == "succeeded":
                    requests.write(json.dumps({"image_url": item["results"][0], "scale_factor": 2}) + "\n")
        return str(target)

    TengrBatchOperator(
        task_id="upscale_for_print",
        endpoint="upscaling",
        requests_path=print_requests(restyled.output),
        output_path="{{ params.output_path }}/{{ run_id }}/print",
        max_in_flight=200,
        max_new_artworks=20_000,
        deferrable=True,
        poll_interval=5,
        retries=2,
        retry_delay=timedelta(minutes=1),
        outlets=[PRINT_READY],
    )


with DAG(
    dag_id="tengr_catalog_batch_publish",
    schedule=[PRINT_READY],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
):

    @task
    def publish(**context: Any) -> list[dict[str, Any]]:
        """What each upscale batch's asset event says: its manifest (every file) and its counts."""
        published = []
        for event in context["triggering_asset_events"][PRINT_READY]:
            counts, manifest = event.extra["counts"], event.extra["manifest"]
            print(f"print-ready: {counts['succeeded']} images, manifest {manifest}")
            published.append({"manifest": event.extra["manifest"], "counts": event.extra["counts"]})
        return published

    publish()
