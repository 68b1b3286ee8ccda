"""A campaign in one visual style: one anchor image, many descriptions, one image each.

style-dna answers at once, but its image URL expires (``expiresAt``): each image is copied to
``output_path`` in the same task. When every image is in place, one Asset event for the whole campaign
lists the stored files, so downstream DAGs (publishing, review) act on exactly the new images. (Each
mapped render could emit its own event, as ``outlets=`` on the operator does, but Airflow may start one
downstream run for several events arriving together and leave later ones to the next run: one event
per batch is what a consumer that needs the whole batch wants.)

Output folders are dated by ``dag_run.run_after``, which every run has: a run triggered without a
logical date (the UI's Trigger button, the REST API) and an asset-triggered run have no ``ds``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from tengr_provider.operators import TengrStyleDnaOperator

CAMPAIGN_IMAGES = Asset("tengr://campaign/images")

with DAG(
    dag_id="tengr_style_dna_campaign",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
    params={
        "anchor_image_url": Param("https://images.example.com/brand/anchor.png", type="string"),
        "descriptions": Param(
            [
                "a ceramic mug on a wooden table",
                "a linen tote bag on a park bench",
                "a brass desk lamp at dusk",
            ],
            type="array",
        ),
        "output_path": Param(
            os.environ.get("TENGR_EXAMPLES_OUTPUT", "file:///tmp/tengr") + "/campaign",
            type="string",
            description="Where images go: shared storage (s3://...) when workers run on several machines.",
        ),
    },
):

    @task
    def descriptions(**context: Any) -> list[str]:
        return list(context["params"]["descriptions"])

    rendered = TengrStyleDnaOperator.partial(
        task_id="render",
        visual_prompt="warm film grain, soft pastel palette, gentle morning light",
        anchor_image_url="{{ params.anchor_image_url }}",
        aspect_ratio="4:3",
        image_format="webp",
        output_path="{{ params.output_path }}/{{ dag_run.run_after | ds }}",
        # API V2 answers with an artwork to wait for (V1 with the image at once): wait in the triggerer.
        deferrable=True,
        poll_interval=5,
        # For what can pass on a second try (an outage longer than the hook's own retries); a template
        # or request error fails every try the same way, so check a DAG with `airflow dags test` first.
        retries=2,
        retry_delay=timedelta(minutes=1),
    ).expand(description=descriptions())

    @task(outlets=[CAMPAIGN_IMAGES])
    def campaign_ready(images: list[dict[str, Any]], **context: Any) -> list[str]:
        """One event for the whole campaign, listing every stored file."""
        files = [uri for image in images for uri in image.get("files", [])]
        context["outlet_events"][CAMPAIGN_IMAGES].extra = {"files": files}
        return files

    campaign_ready(rendered.output)


with DAG(
    dag_id="tengr_campaign_publish",
    schedule=[CAMPAIGN_IMAGES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
):

    @task
    def publish(**context: Any) -> list[str]:
        """Runs when a campaign's images have landed; each event lists the files of one campaign."""
        events = context["triggering_asset_events"][CAMPAIGN_IMAGES]
        files = [uri for event in events for uri in event.extra.get("files", [])]
        for uri in files:
            print(f"publishing {uri}")
        return files

    publish()
