"""Review before print: render a few looks per product, let a person pick, upscale only the picks.

Each product photo is restyled in every look (photo-pilot, mapped), which is cheap; a person then sees
all variants side by side in Airflow's Required Actions page and selects the ones worth printing; only
those are upscaled x4 and written under ``output_path``. If nobody answers within
``REVIEW_WINDOW``, the default answer is "None of these": nothing is upscaled and nothing more is
spent.

Human-in-the-loop operators need Airflow 3.1+ (``apache-airflow-providers-standard``). The review's
options are fixed when the DAG is parsed, so the products and looks are constants here (in practice,
read them from a file next to the DAG); the images and artwork ids they show are filled in at run time.
Runs unchanged against tengr.ai (API key in the ``tengr_default`` connection) or the local emulator;
point ``photo_base_url`` at photos tengr.ai can fetch.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG, Param, task

from tengr_provider.decorators import PhotoPilotFields, UpscalingFields

#: Product SKU → what it is; the photo is ``<photo_base_url>/<sku>.png``.
PRODUCTS = {"sneaker-red": "a red canvas sneaker", "mug-ceramic": "a white ceramic mug"}
#: Look → the prompt that renders it.
LOOKS = {
    "studio": "clean studio product shot, seamless white background, soft daylight",
    "lifestyle": "the product in use in a bright, modern home, natural light, shallow depth of field",
}
#: What the reviewer selects: one option per variant, plus an explicit "none".
VARIANTS = [f"{sku}: {look}" for sku in PRODUCTS for look in LOOKS]
NONE_OF_THESE = "None of these"
#: The review's first line. The options are a multi-select with "None of these" selected beforehand
#: (the default a timeout applies); a person who adds variants may leave it selected.
INSTRUCTIONS = (
    "Select the variants to upscale x4 for print. Selected variants are upscaled even if "
    f'"{NONE_OF_THESE}" (selected beforehand) stays selected; leave only "{NONE_OF_THESE}" to print nothing.'
)
#: How long the review waits for a person before the default answer (None of these) applies.
REVIEW_WINDOW = timedelta(hours=24)

with DAG(
    dag_id="tengr_review_before_print",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tengr", "example", "human-in-the-loop"],
    # A retry of a tengr task costs no credit: it reconnects to the artwork it created (Airflow 3.3+'s
    # task state store). It covers an outage longer than the hook's retries, and the review's own wait.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "photo_base_url": Param("https://images.example.com/catalog", type="string"),
        "output_path": Param(
            os.environ.get("TENGR_EXAMPLES_OUTPUT", "file:///tmp/tengr") + "/review",
            type="string",
            description="Where images go: shared storage (s3://...) when workers run on several machines.",
        ),
    },
):

    @task
    def variants(**context: Any) -> list[dict[str, str]]:
        """One record per product and look, in the order of the review's options."""
        base = context["params"]["photo_base_url"].rstrip("/")
        return [
            {"label": f"{sku}: {look}", "photo": f"{base}/{sku}.png", "prompt": f"{what}, {prompt}"}
            for sku, what in PRODUCTS.items()
            for look, prompt in LOOKS.items()
        ]

    @task.tengr_photo_pilot(
        output_path="{{ params.output_path }}/variants", deferrable=True, poll_interval=5, timeout=1800
    )
    def render(variant: dict[str, str]) -> PhotoPilotFields:
        """A restyle of the product photo in one look."""
        return {
            "image_url": variant["photo"],
            "prompt": variant["prompt"],
            "image_guidance": 1,
            "modification": 3,
            "creativity": 3,
            "effort": 2,
            "aspect_ratio": "1:1",
        }

    @task
    def review_sheet(variants: list[dict[str, str]], artworks: list[dict[str, Any]]) -> str:
        """The review's Markdown body: every variant as an image, with its artwork id."""
        sections = [
            f"### {variant['label']}\n\n![{variant['label']}]({artwork['results'][0]})\n\n"
            f"artwork `{artwork['id']}`"
            for variant, artwork in zip(variants, artworks, strict=True)
        ]
        return INSTRUCTIONS + "\n\n" + "\n\n".join(sections)

    @task
    def picked(
        variants: list[dict[str, str]], artworks: list[dict[str, Any]], review: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The artworks of the selected variants; "None of these" picks nothing and, next to variants
        (the UI keeps it selected when a person adds some), is outweighed by them."""
        chosen = set(review["chosen_options"])
        return [
            artwork for variant, artwork in zip(variants, artworks, strict=True) if variant["label"] in chosen
        ]

    @task.tengr_upscale(output_path="{{ params.output_path }}/print", deferrable=True, poll_interval=5)
    def upscale(artwork: dict[str, Any]) -> UpscalingFields:
        """x4 for print, from the picked artwork's result."""
        return {"image_url": artwork["results"][0], "scale_factor": 4}

    all_variants = variants()
    rendered = render.expand(variant=all_variants)
    review = HITLOperator(
        task_id="review",
        subject="Which variants go to print?",
        body=review_sheet(all_variants, rendered),
        options=[*VARIANTS, NONE_OF_THESE],
        multiple=True,
        defaults=[NONE_OF_THESE],
        response_timeout=REVIEW_WINDOW,
    )
    upscale.expand(artwork=picked(all_variants, rendered, review.output))
