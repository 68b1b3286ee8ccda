"""Every documented API rule, as a table of valid and invalid inputs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tengr_provider.models import (
    ApiError,
    Artwork,
    ArtworkStatus,
    ImageGuidance,
    PhotoPilotRequest,
    StyleDnaImage,
    StyleDnaRequest,
    UpscalingRequest,
    parse_request,
)
from tengr_provider.request_errors import TengrRequestValidationError

PHOTO = {
    "image_url": "https://img.example/shoe.png",
    "image_guidance": 1,
    "modification": 3,
    "creativity": 2,
    "effort": 4,
}
STYLE = {
    "visual_prompt": "studio light",
    "anchor_image_url": "https://img.example/anchor.png",
    "description": "a red sneaker",
}
UPSCALE = {"image_url": "https://img.example/shoe.png"}


def photo(**changes: Any) -> dict[str, Any]:
    return {**PHOTO, **changes}


def style(**changes: Any) -> dict[str, Any]:
    return {**STYLE, **changes}


VALID = [
    (PhotoPilotRequest, PHOTO),
    (PhotoPilotRequest, photo(image_guidance=3, modification=5, creativity=1, effort=5)),
    (PhotoPilotRequest, photo(width=1216, height=1216)),
    (PhotoPilotRequest, photo(width=1328, height=1328, high_resolution=True)),
    (PhotoPilotRequest, photo(width=512, height=2048)),
    (PhotoPilotRequest, photo(aspect_ratio="16:9", high_resolution=True)),
    (PhotoPilotRequest, photo(prompt="a cat", negative_prompt="blur", webhook="https://hooks.example/x")),
    (
        PhotoPilotRequest,
        {
            "imageUrl": "http://img.example/a.png",
            "imageGuidance": "2",
            "modification": "1",
            "creativity": 1,
            "effort": 1,
        },
    ),
    (StyleDnaRequest, STYLE),
    (StyleDnaRequest, style(width=1328, height=1328, image_format="webp")),
    (StyleDnaRequest, style(aspect_ratio="2:3", image_format="png")),
    (UpscalingRequest, UPSCALE),
    (UpscalingRequest, {"imageUrl": "https://img.example/a.webp", "scaleFactor": 8}),
]

INVALID = [
    # (model, input, field named in the message, words of the rule)
    (PhotoPilotRequest, photo(image_guidance=4), "image_guidance", "1, 2 or 3"),
    (PhotoPilotRequest, photo(image_guidance=0), "image_guidance", "1, 2 or 3"),
    (PhotoPilotRequest, photo(modification=0), "modification", "greater than or equal to 1"),
    (PhotoPilotRequest, photo(modification=6), "modification", "less than or equal to 5"),
    (PhotoPilotRequest, photo(creativity=9), "creativity", "less than or equal to 5"),
    (PhotoPilotRequest, photo(effort=-1), "effort", "greater than or equal to 1"),
    (PhotoPilotRequest, photo(effort="high"), "effort", "valid integer"),
    (PhotoPilotRequest, photo(aspect_ratio="5:4"), "aspect_ratio", "'1:1'"),
    (PhotoPilotRequest, photo(width=511, height=1024), "width", "greater than or equal to 512"),
    (PhotoPilotRequest, photo(width=1024, height=2049), "height", "less than or equal to 2048"),
    (PhotoPilotRequest, photo(width=1024), "height", "required when width is given"),
    (PhotoPilotRequest, photo(height=1024), "width", "required when height is given"),
    (
        PhotoPilotRequest,
        photo(width=1024, height=1024, aspect_ratio="1:1"),
        "aspect_ratio",
        "cannot be combined with width/height",
    ),
    (PhotoPilotRequest, photo(width=1217, height=1216), "width", "exceeds 1478656 px"),
    (PhotoPilotRequest, photo(width=1329, height=1328, high_resolution=True), "width", "exceeds 1763584 px"),
    (PhotoPilotRequest, photo(width=2048, height=2048), "width", "area 2048x2048=4194304 px exceeds 1478656"),
    (PhotoPilotRequest, photo(image_url="s3://bucket/key.png"), "image_url", "http(s) URL"),
    (PhotoPilotRequest, photo(image_url="not a url"), "image_url", "http(s) URL"),
    (PhotoPilotRequest, photo(webhook="ftp://hooks.example"), "webhook", "http(s) URL"),
    (PhotoPilotRequest, {k: v for k, v in PHOTO.items() if k != "image_url"}, "image_url", "Field required"),
    (
        PhotoPilotRequest,
        {k: v for k, v in PHOTO.items() if k != "image_guidance"},
        "image_guidance",
        "Field required",
    ),
    (PhotoPilotRequest, {k: v for k, v in PHOTO.items() if k != "effort"}, "effort", "Field required"),
    (PhotoPilotRequest, photo(scale_factor=2), "scale_factor", "unknown field"),
    (PhotoPilotRequest, photo(high_resolution="maybe"), "high_resolution", "valid boolean"),
    (StyleDnaRequest, style(image_format="jpeg"), "image_format", "'png' or 'webp'"),
    (StyleDnaRequest, style(aspect_ratio="21:9"), "aspect_ratio", "'1:1'"),
    (StyleDnaRequest, style(width=1329, height=1328), "width", "exceeds 1763584 px"),
    (
        StyleDnaRequest,
        style(width=1024, aspect_ratio="1:1", height=1024),
        "aspect_ratio",
        "cannot be combined",
    ),
    (StyleDnaRequest, style(width=1024), "height", "required when width is given"),
    (StyleDnaRequest, style(anchor_image_url="file:///etc/passwd"), "anchor_image_url", "http(s) URL"),
    (StyleDnaRequest, style(description="   "), "description", "must not be empty"),
    (
        StyleDnaRequest,
        {k: v for k, v in STYLE.items() if k != "visual_prompt"},
        "visual_prompt",
        "Field required",
    ),
    (
        StyleDnaRequest,
        {k: v for k, v in STYLE.items() if k != "description"},
        "description",
        "Field required",
    ),
    (
        UpscalingRequest,
        {"image_url": "https://img.example/a.png", "scale_factor": 1},
        "scale_factor",
        "greater than or equal to 2",
    ),
    (
        UpscalingRequest,
        {"image_url": "https://img.example/a.png", "scale_factor": 9},
        "scale_factor",
        "less than or equal to 8",
    ),
    (UpscalingRequest, {"scale_factor": 2}, "image_url", "Field required"),
    (UpscalingRequest, {"image_url": "//img.example/a.png"}, "image_url", "http(s) URL"),
]


@pytest.mark.parametrize(("model", "data"), VALID)
def test_valid_input_is_accepted(model: Any, data: dict[str, Any]) -> None:
    assert isinstance(parse_request(model, data), model)


@pytest.mark.parametrize(("model", "data", "field", "rule"), INVALID)
def test_invalid_input_names_field_and_rule(model: Any, data: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(TengrRequestValidationError) as info:
        parse_request(model, data)
    problem = next((p for p in info.value.problems if p.startswith(field)), None)
    assert problem is not None, f"no problem names {field}: {info.value.problems}"
    assert rule in problem
    assert model.__name__ in str(info.value)


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(TengrRequestValidationError) as info:
        parse_request(PhotoPilotRequest, photo(image_guidance=9, modification=0, image_url="x"))
    fields = sorted(problem.split(" ")[0].rstrip(":") for problem in info.value.problems)
    assert fields == ["image_guidance", "image_url", "modification"]


def test_field_names_show_both_spellings() -> None:
    with pytest.raises(TengrRequestValidationError, match=r"image_guidance \(imageGuidance\)"):
        parse_request(PhotoPilotRequest, photo(image_guidance=5))


def test_non_dict_input_is_refused() -> None:
    with pytest.raises(TengrRequestValidationError, match="expected a UpscalingRequest or a dict, got list"):
        parse_request(UpscalingRequest, ["https://img.example/a.png"])  # type: ignore[arg-type]


def test_model_instance_passes_through() -> None:
    request = UpscalingRequest(image_url="https://img.example/a.png")
    assert parse_request(UpscalingRequest, request) is request


def test_wire_format_is_camel_case_without_nulls() -> None:
    request = parse_request(PhotoPilotRequest, photo(negative_prompt="blur", high_resolution=False))
    assert request.to_api() == {
        "imageUrl": "https://img.example/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 2,
        "effort": 4,
        "negativePrompt": "blur",
        "highResolution": False,
    }


def test_scale_factor_defaults_to_two() -> None:
    assert parse_request(UpscalingRequest, UPSCALE).to_api() == {
        "imageUrl": "https://img.example/shoe.png",
        "scaleFactor": 2,
    }


def test_style_dna_extension_follows_image_format() -> None:
    assert parse_request(StyleDnaRequest, STYLE).extension == "png"
    assert parse_request(StyleDnaRequest, style(image_format="webp")).extension == "webp"


def test_prompt_over_word_limit_warns_but_passes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        request = parse_request(PhotoPilotRequest, photo(prompt="word " * 257, negative_prompt="no " * 65))
    assert request.warnings() == [
        "prompt has 257 words; tengr.ai keeps the first 256 and truncates the rest",
        "negative_prompt has 65 words; tengr.ai keeps the first 64 and truncates the rest",
    ]
    assert caplog.text == ""  # returned to the caller, never logged by validation


def test_prompt_at_word_limit_does_not_warn() -> None:
    request = parse_request(PhotoPilotRequest, photo(prompt="word " * 256, negative_prompt="no " * 64))
    assert request.warnings() == []


def test_size_fields_with_high_guidance_warn_but_pass(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        request = parse_request(PhotoPilotRequest, photo(image_guidance=3, width=1024, height=1024))
    assert request.width == 1024
    assert request.warnings() == [
        "width, height only apply when image_guidance is LOW (1); with 3 tengr.ai uses the source "
        "image's size and ignores them"
    ]
    assert caplog.text == ""


def test_size_fields_with_low_guidance_do_not_warn() -> None:
    request = parse_request(PhotoPilotRequest, photo(image_guidance=ImageGuidance.LOW, aspect_ratio="1:1"))
    assert request.warnings() == []


@pytest.mark.parametrize(
    ("status", "terminal", "success"),
    [
        ("starting", False, False),
        ("processing", False, False),
        ("succeeded", True, True),
        ("done", True, True),
        ("failed", True, False),
        ("canceled", True, False),
    ],
)
def test_artwork_status_knows_terminal_and_success(status: str, terminal: bool, success: bool) -> None:
    assert ArtworkStatus(status).is_terminal is terminal
    assert ArtworkStatus(status).is_success is success


def test_artwork_accepts_unknown_fields_and_optional_echo() -> None:
    artwork = Artwork.model_validate(
        {
            "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "artworkType": "photo_pilot",
            "parameters": {"imageUrls": ["https://a/1.png"], "bucket": "b", "prompt": "cat"},
            "duration": 12.5,
            "results": ["https://cdn.example/1.png"],
            "status": "succeeded",
            "createdAt": "2024-07-29T15:51:28.071Z",
            "brandNewField": {"x": 1},
        }
    )
    assert artwork.status is ArtworkStatus.SUCCEEDED
    assert artwork.to_api()["brandNewField"] == {"x": 1}
    assert artwork.to_api()["artworkType"] == "photo_pilot"


def test_artwork_with_unknown_status_is_kept_as_in_flight() -> None:
    artwork = Artwork.model_validate({"id": "a", "status": "queued", "priority": 3})
    assert artwork.status.value == "queued"
    assert not artwork.status.is_known
    assert not artwork.status.is_terminal
    assert not artwork.status.is_success
    assert artwork.to_api()["status"] == "queued"
    assert artwork.to_api()["priority"] == 3
    assert ArtworkStatus.of("queued") is None
    assert "queued" not in [status.value for status in ArtworkStatus]


def test_artwork_without_a_status_word_is_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        Artwork.model_validate({"id": "a", "status": None})


def test_style_dna_image_round_trips_in_api_names() -> None:
    image = StyleDnaImage.model_validate(
        {"imageUrl": "https://cdn.example/i.png", "expiresAt": "2026-01-01T00:00:00Z", "creditsUsed": 2}
    )
    assert image.to_api() == {
        "imageUrl": "https://cdn.example/i.png",
        "expiresAt": "2026-01-01T00:00:00Z",
        "creditsUsed": 2.0,
        "artworkId": None,
    }


def test_api_error_message_may_be_a_list() -> None:
    error = ApiError.model_validate(
        {
            "message": ["width must be >= 512", "effort must be <= 5"],
            "statusCode": 400,
            "error": "Bad Request",
        }
    )
    assert error.message == ["width must be >= 512", "effort must be <= 5"]
    assert (error.status_code, error.error) == (400, "Bad Request")
    assert ApiError.model_validate({"message": "Unauthorized", "statusCode": 401}).message == "Unauthorized"


def test_a_photo_pilot_seed_is_sent_as_given_within_the_apis_range() -> None:
    # Added to the model alone: the operator, the decorators' TypedDict and the docs follow from it.
    assert parse_request(PhotoPilotRequest, photo(seed="42")).to_api()["seed"] == 42
    assert "seed" not in parse_request(PhotoPilotRequest, PHOTO).to_api()
    for bad, rule in ((0, "greater than or equal to 1"), (2**31, "less than or equal to 2147483647")):
        with pytest.raises(TengrRequestValidationError, match=f"seed: Input should be {rule}"):
            parse_request(PhotoPilotRequest, photo(seed=bad))
