"""DAGs written with ``@task.tengr_*``, run by the integration tests with ``dag.test()`` on the emulator.

The functions compute their requests from their arguments, as a real pipeline computes them from
upstream data. Sample images come from the emulator (``<connection host>/samples/...``) and each run's
``output_path`` from ``dag_run.conf``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, task

from tengr_provider.decorators import PhotoPilotFields, StyleDnaFields, UpscalingFields
from tengr_provider.models import StyleDnaRequest, UpscalingRequest

OUTPUT = "{{ dag_run.conf['output_path'] }}"
#: The emulator's address; the functions' arguments are templated like any operator's.
HOST = "{{ conn.tengr_default.host }}"
PRODUCTS = ["shoe-0", "shoe-1", "shoe-2"]


def sample(host: str, name: str) -> str:
    return f"{host}/samples/{name}.png"


@task
def catalogue(host: str, skus: list[str]) -> list[dict[str, str]]:
    """Upstream data: one record per product, with its photo."""
    return [{"sku": sku, "photo": sample(host, sku)} for sku in skus]


def restyle_request(product: dict[str, str], prompt: str = "studio shot") -> PhotoPilotFields:
    return {
        "image_url": product["photo"],
        "image_guidance": 1,
        "modification": 3,
        "creativity": 2,
        "effort": 2,
        "aspect_ratio": "1:1",
        "prompt": f"{prompt} of {product['sku']}",
    }


with DAG("it_decorated_plain", schedule=None, catchup=False, tags=["integration"]):

    @task.tengr_photo_pilot(output_path=f"{OUTPUT}/restyled", poll_interval=0.2, timeout=60)
    def restyle(host: str) -> PhotoPilotFields:
        return restyle_request({"sku": "bag", "photo": sample(host, "bag")})

    @task.tengr_upscale(output_path=f"{OUTPUT}/print", poll_interval=0.2)
    def upscale(artwork: dict[str, Any]) -> UpscalingRequest:
        # A request model works as well as a dict.
        return UpscalingRequest(image_url=artwork["results"][0], scale_factor=2)

    @task.tengr_style_dna(output_path=f"{OUTPUT}/style")
    def style(host: str) -> StyleDnaRequest:
        return StyleDnaRequest(
            visual_prompt="neon noir",
            anchor_image_url=sample(host, "anchor"),
            description="a red sneaker on a table",
            aspect_ratio="16:9",
            image_format="webp",
        )

    upscale(restyle(HOST))
    style(HOST)

for mode in ("poll", "deferrable"):
    with DAG(f"it_decorated_mapped_{mode}", schedule=None, catchup=False, tags=["integration"]):

        @task.tengr_photo_pilot(
            output_path=f"{OUTPUT}/restyled", deferrable=mode == "deferrable", poll_interval=0.2, timeout=60
        )
        def restyle(product: dict[str, str], prompt: str = "studio shot") -> PhotoPilotFields:
            return restyle_request(product, prompt)

        @task.tengr_upscale(output_path=f"{OUTPUT}/print", deferrable=mode == "deferrable", poll_interval=0.2)
        def upscale(artwork: dict[str, Any], scale_factor: int = 2) -> UpscalingFields:
            return {"image_url": artwork["results"][0], "scale_factor": scale_factor}

        # .expand(): one restyle per product, one upscale per restyled artwork.
        restyled = restyle.expand(product=catalogue(HOST, PRODUCTS[:2]))
        upscale.expand(artwork=restyled)
        # .partial().expand(): the same functions with a shared argument, as separate tasks.
        restyled_partial = (
            restyle.override(task_id="restyle_partial")
            .partial(prompt="soft daylight")
            .expand(product=catalogue.override(task_id="catalogue_partial")(HOST, PRODUCTS[2:]))
        )
        upscale.override(task_id="upscale_partial").partial(scale_factor=4).expand(artwork=restyled_partial)

with DAG("it_decorated_style_dna_mapped", schedule=None, catchup=False, tags=["integration"]):

    @task.tengr_style_dna(output_path=f"{OUTPUT}/style")
    def styled(product: dict[str, str], visual_prompt: str = "watercolour") -> StyleDnaFields:
        return {
            "visual_prompt": visual_prompt,
            "anchor_image_url": product["photo"],
            "description": f"{product['sku']} on a kitchen table",
            "aspect_ratio": "1:1",
        }

    products = catalogue(HOST, PRODUCTS)
    # .expand() and .partial().expand(): three images in the default style, three in another.
    styled.expand(product=products)
    styled.override(task_id="styled_partial").partial(visual_prompt="neon noir").expand(product=products)

with DAG("it_decorated_invalid_request", schedule=None, catchup=False, tags=["integration"]):

    @task.tengr_photo_pilot(poll_interval=0.2)
    def restyle_too_much(host: str) -> PhotoPilotFields:
        return {**restyle_request({"sku": "bag", "photo": sample(host, "bag")}), "modification": 9}

    restyle_too_much(HOST)
