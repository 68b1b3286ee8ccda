"""The emulator serves API V1 and V2 side by side over one store; V2's creates are asynchronous."""

from __future__ import annotations

import pytest
from tests.emulator.support import Api, ApiFactory, EmulatorFactory, style_dna_body, wait_for_status

from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.3)


def test_v2_upscaling_answers_202_with_an_upscaling_v2_artwork_that_succeeds(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    source = tengr_emulator.sample_image_url("up", width=600, height=400)
    answer = api.post("/v2/artworks/upscaling", {"imageUrl": source, "scaleFactor": 2})
    assert answer.status_code == 202
    created = answer.json()
    assert (created["artworkType"], created["status"], created["results"]) == ("upscaling_v2", "starting", [])
    done = wait_for_status(api, created["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded"
    assert api.image(done["results"][0]).size == (1200, 800)


def test_v2_style_dna_answers_an_artwork_whose_result_is_the_image(api: Api) -> None:
    answer = api.post("/v2/style-dna/generate", style_dna_body(imageFormat="webp", width=640, height=512))
    assert answer.status_code == 202
    created = answer.json()
    assert (created["artworkType"], created["status"]) == ("style_dna", "starting")
    done = wait_for_status(api, created["id"], {"succeeded"})
    image = api.image(done["results"][0])
    assert (image.format, image.size) == ("WEBP", (640, 512))


def test_one_store_serves_both_versions(api: Api) -> None:
    created = api.photo_pilot().json()
    assert api.get(f"/v2/artworks/{created['id']}").json()["id"] == created["id"]
    assert [artwork["id"] for artwork in api.get("/v2/artworks").json()] == [created["id"]]


@pytest.mark.parametrize("path", ["/v1/style-dna/generate", "/v1/artworks/upscaling"])
def test_v1_synchronous_calls_refuse_a_webhook(api: Api, tengr_emulator: TengrEmulator, path: str) -> None:
    webhook = "https://hooks.example/tengr"
    body = (
        style_dna_body(webhook=webhook)
        if "style" in path
        else {"imageUrl": tengr_emulator.sample_image_url(), "webhook": webhook}
    )
    answer = api.post(path, body)
    assert answer.status_code == 400
    assert answer.json()["message"] == ["property webhook should not exist"]


def test_any_other_artwork_endpoint_makes_an_artwork_of_its_name(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    answer = api.post("/v2/artworks/remove-background", {"imageUrl": tengr_emulator.sample_image_url()})
    assert answer.status_code == 202
    assert answer.json()["artworkType"] == "remove_background"
    assert api.post("/v2/artworks/remove-background", {"image": "x"}).status_code == 400


def test_root_lists_the_routes_of_both_versions(api: Api) -> None:
    routes = api.get("/").json()["routes"]
    assert "POST /v1/style-dna/generate" in routes
    assert "POST /v2/style-dna/generate" in routes


def test_unknown_status_is_reported_while_in_flight_then_the_usual_final_one(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    emulator = tengr_emulator_factory(processing_seconds=0.3, unknown_status="queued")
    api = api_for(emulator)
    created = api.post("/v2/artworks/upscaling", {"imageUrl": emulator.sample_image_url()}).json()
    assert created["status"] == "queued"
    assert api.get(f"/v2/artworks/{created['id']}").json()["status"] in ("queued", "succeeded")
    assert wait_for_status(api, created["id"], {"succeeded"})["status"] == "succeeded"


def test_an_empty_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown_status: must not be empty"):
        TengrEmulator(unknown_status=" ")
