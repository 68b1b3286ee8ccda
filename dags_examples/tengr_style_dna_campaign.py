"""A campaign in one visual style: one anchor image, many descriptions, one image each.

style-dna answers at once, but its image URL expires (``expiresAt``): each image is copied to
``output_path`` in the same task, and the task emits an Asset event so downstream DAGs (publishing,
review) run when the campaign's images are in place.
"""

from __future__ import annotations

from datetime import datetime
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
        "output_path": Param("file:///tmp/tengr/campaign", type="string"),
    },
):

    @task
    def descriptions(**context: Any) -> list[str]:
        return list(context["params"]["descriptions"])

    TengrStyleDnaOperator.partial(
        task_id="render",
        visual_prompt="warm film grain, soft pastel palette, gentle morning light",
        anchor_image_url="{{ params.anchor_image_url }}",
        aspect_ratio="4:3",
        image_format="webp",
        output_path="{{ params.output_path }}/{{ ds }}",
        retries=2,
        outlets=[CAMPAIGN_IMAGES],
    ).expand(description=descriptions())


with DAG(
    dag_id="tengr_campaign_publish",
    schedule=[CAMPAIGN_IMAGES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example"],
):

    @task
    def publish(**context: Any) -> int:
        """Runs when the campaign's images have landed; here it only counts the triggering events."""
        events = context["triggering_asset_events"][CAMPAIGN_IMAGES]
        print(f"{len(events)} campaign image event(s) ready to publish")
        return len(events)

    publish()
