"""Invalid requests answer NestJS-shaped 400s whose lines come from the provider's own models."""

from __future__ import annotations

from typing import Any

import pytest
from tests.emulator.support import TIMEOUT, Api, ApiFactory, EmulatorFactory, photo_pilot_body, style_dna_body

from tengr_provider.models import ApiError
from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.1)


def assert_bad_request(answer: Any, *expected: str) -> list[str]:
    """The answer is a NestJS validation 400 whose problem lines contain each ``expected`` text."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"message", "error", "statusCode"}
    assert body["error"] == "Bad Request"
    assert body["statusCode"] == 400
    assert isinstance(body["message"], list)
    ApiError.model_validate(body)
    for text in expected:
        assert any(text in line for line in body["message"]), (text, body["message"])
    return list(body["message"])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"imageGuidance": 4}, "image_guidance (imageGuidance)", id="guidance-out-of-range"),
        pytest.param({"modification": 0}, "modification", id="modification-below-1"),
        pytest.param({"width": 1024}, "height: required when width is given", id="width-without-height"),
        pytest.param({"width": 2048, "height": 2048}, "exceeds 1478656 px", id="area-over-cap"),
        pytest.param({"width": 256, "height": 512}, "width", id="edge-below-512"),
        pytest.param(
            {"width": 1024, "height": 1024, "aspectRatio": "1:1"},
            "aspect_ratio: cannot be combined with width/height",
            id="aspect-ratio-with-width",
        ),
        pytest.param({"aspectRatio": "5:4"}, "aspect_ratio (aspectRatio)", id="unknown-aspect-ratio"),
        pytest.param({"imageUrl": "ftp://host/a.png"}, "must be an http(s) URL", id="not-http-url"),
        pytest.param({"colour": "red"}, "unknown field", id="unknown-field"),
    ],
)
def test_photo_pilot_refuses_what_the_models_refuse(api: Api, fields: dict[str, Any], expected: str) -> None:
    assert_bad_request(api.photo_pilot(**fields), expected)


def test_photo_pilot_lists_every_missing_required_field(api: Api) -> None:
    lines = assert_bad_request(api.post("/v1/artworks/photo-pilot", {}))

    for field in ("image_url", "image_guidance", "modification", "creativity", "effort"):
        assert any(line.startswith(field) for line in lines), field


def test_high_resolution_raises_the_photo_pilot_area_cap(api: Api) -> None:
    assert_bad_request(api.photo_pilot(width=1328, height=1328), "exceeds 1478656 px")

    assert api.photo_pilot(width=1328, height=1328, highResolution=True).status_code == 202


def test_snake_case_names_are_unknown_on_the_wire(api: Api) -> None:
    body = photo_pilot_body()
    body["image_guidance"] = body.pop("imageGuidance")

    assert_bad_request(api.post("/v1/artworks/photo-pilot", body), "property image_guidance should not exist")


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_answers_400(api: Api, raw: bytes) -> None:
    answer = api.session.post(
        api.url("/v1/artworks/photo-pilot"),
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )

    assert assert_bad_request(answer) == ["request body must be a JSON object"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"description": "  "}, "description: must not be empty", id="blank-description"),
        pytest.param({"imageFormat": "gif"}, "image_format (imageFormat)", id="unknown-format"),
        pytest.param({"width": 1400, "height": 1400}, "exceeds 1763584 px", id="area-over-cap"),
        pytest.param(
            {"aspectRatio": "16:9", "width": 1024, "height": 576},
            "aspect_ratio: cannot be combined",
            id="aspect-ratio-with-width",
        ),
    ],
)
def test_style_dna_refuses_what_the_models_refuse(api: Api, fields: dict[str, Any], expected: str) -> None:
    assert_bad_request(api.style_dna(**fields), expected)


def test_style_dna_lists_missing_required_fields(api: Api) -> None:
    body = style_dna_body()
    del body["anchorImageUrl"], body["visualPrompt"]

    assert_bad_request(api.post("/v1/style-dna/generate", body), "anchor_image_url", "visual_prompt")


@pytest.mark.parametrize("factor", [1, 9])
def test_upscaling_refuses_a_scale_factor_outside_2_to_8(api: Api, factor: int) -> None:
    assert_bad_request(api.upscale("https://images.example.com/a.png", factor), "scale_factor (scaleFactor)")


def test_upscaling_refuses_an_own_source_over_the_area_cap(api: Api, tengr_emulator: TengrEmulator) -> None:
    source = tengr_emulator.sample_image_url("big", width=1300, height=1300)

    assert_bad_request(api.upscale(source), "source image 1300x1300=1690000 px exceeds 1478656 px")

    assert tengr_emulator.stats().artworks_created == 0


def test_upscaling_accepts_an_own_source_at_the_area_cap(api: Api, tengr_emulator: TengrEmulator) -> None:
    source = tengr_emulator.sample_image_url("edge", width=1216, height=1216)  # 1,478,656 px exactly

    assert api.upscale(source).status_code == 201


def test_an_own_image_url_that_does_not_serve_is_refused(api: Api, tengr_emulator: TengrEmulator) -> None:
    missing = f"{tengr_emulator.url}/files/00000000-0000-4000-8000-000000000000_0.png"

    assert_bad_request(api.upscale(missing), "cannot download")
    assert_bad_request(api.photo_pilot(imageUrl=missing), "cannot download")


def test_a_refused_request_spends_no_credit(
    api_for: ApiFactory, tengr_emulator_factory: EmulatorFactory
) -> None:
    emulator = tengr_emulator_factory(credits=1)
    api = api_for(emulator)

    assert_bad_request(api.photo_pilot(imageGuidance=9))

    assert emulator.stats().credits_remaining == 1
    assert api.photo_pilot().status_code == 202
