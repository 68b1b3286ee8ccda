"""Refresh a product catalogue: restyle each product photo, upscale it x4 for print, keep the files.

photo-pilot runs once per photo (dynamic task mapping) and waits in the triggerer, so a catalogue of
hundreds of photos holds no worker slots while tengr.ai works. Each result is upscaled and every
image is copied under ``output_path`` before the URLs expire. Runs unchanged against tengr.ai (API key
in the ``tengr_default`` connection) or the local emulator (``make demo``). It runs daily, and from
the Trigger button with other photos; its templates use only names every kind of run has.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from tengr_provider.operators import TengrPhotoPilotOperator, TengrUpscaleOperator

PRINT_READY = Asset("tengr://catalog/print-ready")

with DAG(
    dag_id="tengr_catalog_refresh",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
    params={
        "product_photos": Param(
            [
                "https://images.example.com/catalog/sneaker-red.png",
                "https://images.example.com/catalog/mug-ceramic.png",
                "https://images.example.com/catalog/lamp-brass.png",
            ],
            type="array",
            description="Source photos (http(s) URLs tengr.ai can fetch).",
        ),
        "output_path": Param(
            os.environ.get("TENGR_EXAMPLES_OUTPUT", "file:///tmp/tengr") + "/catalog",
            type="string",
            description="Where images go: shared storage (s3://...) when workers run on several machines.",
        ),
    },
):

    @task
    def product_photos(**context: Any) -> list[str]:
        """The photos of this run: the DAG param, so a trigger with conf can restyle any list."""
        return list(context["params"]["product_photos"])

    restyled = TengrPhotoPilotOperator.partial(
        task_id="restyle",
        image_guidance=1,
        modification=2,
        creativity=3,
        effort=3,
        aspect_ratio="1:1",
        prompt="clean studio product shot, soft daylight, seamless white background",
        negative_prompt="text, watermark, clutter",
        output_path="{{ params.output_path }}/restyled",
        deferrable=True,
        poll_interval=5,
        timeout=1800,
        # Retries are for what can pass on a second try (an outage outlasting the hook's retries); a
        # retry reconnects to the artwork already created instead of paying again.
        retries=2,
        retry_delay=timedelta(minutes=1),
    ).expand(image_url=product_photos())

    upscaled = TengrUpscaleOperator.partial(
        task_id="upscale_for_print",
        scale_factor=4,
        output_path="{{ params.output_path }}/print",
        deferrable=True,
        poll_interval=5,
        retries=2,
        retry_delay=timedelta(minutes=1),
        outlets=[PRINT_READY],
    ).expand(image_url=restyled.output.map(lambda artwork: artwork["results"][0]))

    @task
    def summary(upscaled_artworks: list[dict[str, Any]]) -> dict[str, Any]:
        """One line per product: which artwork, which files. Small: ids and URIs, never bytes."""
        files = [uri for artwork in upscaled_artworks for uri in artwork.get("files", [])]
        for artwork in upscaled_artworks:
            print(f"{artwork['id']}: {', '.join(artwork.get('files', []))}")
        return {"artworks": len(upscaled_artworks), "files": files}

    summary(upscaled.output)
