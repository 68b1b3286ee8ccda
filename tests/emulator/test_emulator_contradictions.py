"""Settings that make the emulator contradict one assumption of the provider each (tengr-doctor's rows)."""

from __future__ import annotations

import email.utils
import time
from datetime import datetime

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api, ApiFactory, EmulatorFactory, photo_pilot_body, style_dna_body

from tengr_provider.testing import TengrEmulator


def test_list_limit_max_refuses_a_larger_limit_with_400(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    api = api_for(tengr_emulator_factory(list_limit_max=100))

    refused = api.get("/v1/artworks", params={"limit": 500})

    assert refused.status_code == 400
    assert refused.json()["message"] == ["limit: must be an integer between 1 and 100, got '500'"]
    assert api.get("/v1/artworks", params={"limit": 100}).status_code == 200


def test_moved_route_serves_the_call_elsewhere_and_404s_the_table_path(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    api = api_for(tengr_emulator_factory(moved_route="v2:photo-pilot=/v2/photo-pilot"))

    assert api.post("/v2/artworks/photo-pilot", photo_pilot_body()).status_code == 404
    assert api.post("/v2/photo-pilot", photo_pilot_body()).status_code == 202
    assert api.post("/v1/artworks/photo-pilot", photo_pilot_body()).status_code == 202  # V1 untouched
    routes = api.get("/").json()["routes"]
    assert "POST /v2/photo-pilot" in routes
    assert "POST /v2/artworks/photo-pilot" not in routes


def test_moved_route_must_name_a_version_a_create_call_and_a_path() -> None:
    with pytest.raises(ValueError, match="moved_route: expected version:call=/path"):
        TengrEmulator(moved_route="v3:photo-pilot=/v3/pp")


@pytest.mark.tengr_emulator(create_status=201)
def test_create_status_answers_asynchronous_creates_with_it(api: Api) -> None:
    assert api.photo_pilot().status_code == 201
    assert api.post("/v2/artworks/upscaling", {"imageUrl": "https://img.example/a.png"}).status_code == 201
    assert api.upscale("https://img.example/a.png").status_code == 201  # V1's synchronous 201 either way


@pytest.mark.tengr_emulator(style_dna_v2_answer="image")
def test_style_dna_v2_answer_image_answers_the_finished_image(api: Api) -> None:
    answer = api.post("/v2/style-dna/generate", style_dna_body())

    assert answer.status_code == 202
    assert set(answer.json()) == {"imageUrl", "expiresAt", "creditsUsed"}
    assert api.image(answer.json()["imageUrl"]).size == (1024, 1024)


@pytest.mark.tengr_emulator(low_image_guidance=3, processing_seconds=0)
def test_low_image_guidance_moves_which_value_honours_the_size(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    source = tengr_emulator.sample_image_url("src", width=800, height=800)

    one = api.photo_pilot(imageUrl=source, imageGuidance=1, width=640, height=512).json()
    three = api.photo_pilot(imageUrl=source, imageGuidance=3, width=640, height=512).json()

    assert api.image(api.artwork(one["id"]).json()["results"][0]).size == (800, 800)  # ignored
    assert api.image(api.artwork(three["id"]).json()["results"][0]).size == (640, 512)


def test_past_artworks_are_listed_until_the_retention_deletes_them(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    api = api_for(tengr_emulator_factory(past_artworks=10))

    listed = api.get("/v1/artworks", params={"limit": 500}).json()

    assert len(listed) == 7  # 1 to 7 days old; 8 to 10 are past the 8 days
    created = [datetime.fromisoformat(artwork["createdAt"].replace("Z", "+00:00")) for artwork in listed]
    assert [round((time.time() - moment.timestamp()) / 86400) for moment in created] == [1, 2, 3, 4, 5, 6, 7]
    assert all(artwork["status"] == "succeeded" for artwork in listed)


def test_past_artworks_older_than_8_days_still_read_under_a_longer_retention(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    api = api_for(tengr_emulator_factory(past_artworks=10, retention_seconds=30 * 86400))

    oldest = api.get("/v1/artworks", params={"limit": 500}).json()[-1]

    assert api.artwork(oldest["id"]).status_code == 200


@pytest.mark.tengr_emulator(wrong_key_status=403)
def test_wrong_key_status_answers_a_wrong_key_with_it(tengr_emulator: TengrEmulator) -> None:
    answer = requests.get(
        f"{tengr_emulator.url}/v1/artworks", headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT
    )

    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden", "statusCode": 403}


@pytest.mark.parametrize(
    ("form", "reads_as_seconds"),
    [("seconds", 1.0), ("milliseconds", 1000.0)],
)
def test_retry_after_format_writes_the_wait_in_that_form(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory, form: str, reads_as_seconds: float
) -> None:
    api = api_for(tengr_emulator_factory(throttle_rate=1.0, retry_after_format=form))

    answer = api.get("/v1/artworks")

    assert answer.status_code == 429
    assert float(answer.headers["Retry-After"]) == reads_as_seconds


def test_retry_after_format_http_date_is_a_moment_about_a_second_ahead(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    api = api_for(tengr_emulator_factory(throttle_rate=1.0, retry_after_format="http-date"))

    moment = email.utils.parsedate_to_datetime(api.get("/v1/artworks").headers["Retry-After"])

    assert 0 <= moment.timestamp() - time.time() <= 2


@pytest.mark.tengr_emulator(served_versions="v2")
def test_served_versions_leaves_the_others_unanswered(api: Api) -> None:
    assert api.get("/v1/artworks").status_code == 404
    assert api.photo_pilot().status_code == 404
    assert api.get("/v2/artworks").status_code == 200


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"list_limit_max": 0}, "list_limit_max: must be between 1 and 500"),
        ({"create_status": 500}, "create_status: must be a 2xx status"),
        ({"wrong_key_status": 200}, "wrong_key_status: must be a 4xx status"),
        ({"low_image_guidance": 4}, "low_image_guidance: must be 1, 2 or 3"),
        ({"past_artworks": -1}, "past_artworks: must be >= 0"),
        ({"style_dna_v2_answer": "both"}, "style_dna_v2_answer: must be one of artwork, image"),
        (
            {"retry_after_format": "minutes"},
            "retry_after_format: must be one of seconds, http-date, milliseconds",
        ),
        ({"served_versions": "v3"}, "served_versions: must name some of v1, v2"),
    ],
)
def test_a_contradiction_setting_out_of_range_is_refused_naming_it(
    setting: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TengrEmulator(**setting)
