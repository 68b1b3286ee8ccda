"""Result images are real PNG/WebP files whose size follows the request, as the docs' table says."""

from __future__ import annotations

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api, wait_for_status

from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.sizes import ASPECT_RATIO_SIZES, HIGH_RESOLUTION_SIZES

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0)


def photo_pilot_result_size(api: Api, **fields: object) -> tuple[int, int]:
    artwork_id = api.photo_pilot(**fields).json()["id"]
    artwork = wait_for_status(api, artwork_id, {"succeeded"})
    return api.image(artwork["results"][0]).size


def test_photo_pilot_low_guidance_uses_width_and_height(api: Api) -> None:
    assert photo_pilot_result_size(api, imageGuidance=1, width=768, height=1280) == (768, 1280)


@pytest.mark.parametrize("ratio", sorted(ASPECT_RATIO_SIZES))
def test_photo_pilot_low_guidance_uses_the_aspect_ratio_table(api: Api, ratio: str) -> None:
    width, height = photo_pilot_result_size(api, imageGuidance=1, aspectRatio=ratio)

    assert (width, height) == ASPECT_RATIO_SIZES[ratio]
    across, down = (int(part) for part in ratio.split(":"))
    assert width * down == height * across  # the exact ratio
    assert abs(width * height - 1024 * 1024) < 0.07 * 1024 * 1024


def test_photo_pilot_high_resolution_gives_a_larger_size_of_the_ratio(api: Api) -> None:
    size = photo_pilot_result_size(api, imageGuidance=1, aspectRatio="16:9", highResolution=True)

    assert size == HIGH_RESOLUTION_SIZES["16:9"]
    assert size[0] * size[1] > ASPECT_RATIO_SIZES["16:9"].area


@pytest.mark.parametrize("guidance", [2, 3])
def test_photo_pilot_other_guidance_keeps_the_source_size(
    api: Api, tengr_emulator: TengrEmulator, guidance: int
) -> None:
    source = tengr_emulator.sample_image_url("shoe", width=640, height=480)

    size = photo_pilot_result_size(api, imageUrl=source, imageGuidance=guidance, aspectRatio="1:1")

    assert size == (640, 480)


def test_photo_pilot_low_guidance_without_size_fields_keeps_the_source_size(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    source = tengr_emulator.sample_image_url("shoe", width=512, height=900)

    assert photo_pilot_result_size(api, imageUrl=source) == (512, 900)


def test_an_external_source_is_assumed_1024_square(api: Api) -> None:
    assert photo_pilot_result_size(api, imageUrl="https://images.example.com/x.png", imageGuidance=3) == (
        1024,
        1024,
    )


def test_a_photo_pilot_result_can_be_the_next_source(api: Api) -> None:
    first = wait_for_status(api, api.photo_pilot(width=600, height=800).json()["id"], {"succeeded"})

    size = photo_pilot_result_size(api, imageUrl=first["results"][0], imageGuidance=2)

    assert size == (600, 800)


@pytest.mark.parametrize("factor", [2, 3, 8])
def test_upscaling_result_is_the_source_size_times_the_factor(
    api: Api, tengr_emulator: TengrEmulator, factor: int
) -> None:
    source = tengr_emulator.sample_image_url("small", width=120, height=90)

    artwork = api.upscale(source, factor).json()

    assert api.image(artwork["results"][0]).size == (120 * factor, 90 * factor)


def test_upscaling_an_external_source_assumes_1024_square(api: Api) -> None:
    artwork = api.upscale("https://images.example.com/a.webp", 2).json()

    assert api.image(artwork["results"][0]).size == (2048, 2048)


def test_style_dna_png_has_the_requested_size(api: Api) -> None:
    url = api.style_dna(width=832, height=640).json()["imageUrl"]

    image = api.image(url)

    assert image.format == "PNG"
    assert image.size == (832, 640)


def test_style_dna_aspect_ratio_uses_the_table(api: Api) -> None:
    assert api.image(api.style_dna(aspectRatio="9:16").json()["imageUrl"]).size == ASPECT_RATIO_SIZES["9:16"]


def test_style_dna_defaults_to_1024_square(api: Api) -> None:
    assert api.image(api.style_dna().json()["imageUrl"]).size == (1024, 1024)


def test_style_dna_webp_is_a_decodable_webp(api: Api) -> None:
    url = api.style_dna(imageFormat="webp", aspectRatio="3:2").json()["imageUrl"]

    answer = requests.get(url, timeout=TIMEOUT)
    image = api.image(url)

    assert url.endswith(".webp")
    assert answer.headers["Content-Type"] == "image/webp"
    assert image.format == "WEBP"
    assert image.size == ASPECT_RATIO_SIZES["3:2"]


def test_png_results_carry_the_png_content_type(api: Api) -> None:
    url = api.upscale("https://images.example.com/a.png").json()["results"][0]

    answer = requests.get(url, timeout=TIMEOUT)

    assert answer.headers["Content-Type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_different_files_look_different_and_one_file_is_stable(api: Api) -> None:
    first, second = (api.upscale("https://images.example.com/a.png").json()["results"][0] for _ in range(2))

    assert requests.get(first, timeout=TIMEOUT).content == requests.get(first, timeout=TIMEOUT).content
    assert api.image(first).getpixel((0, 0)) != api.image(second).getpixel((0, 0))
