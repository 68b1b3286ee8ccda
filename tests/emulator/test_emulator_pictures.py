"""The emulator's pictures say what made them: an upscale is its source larger, a restyle its source
tinted and captioned, a style-dna image its description; the same request draws the same picture."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops
from tests.emulator.support import Api, wait_for_status

from tengr_provider.testing import TengrEmulator, images
from tengr_provider.testing.pictures import CAPTION_STRIP, TINT_SHARE, Picture, sample_picture, tint_for
from tengr_provider.testing.sizes import Size

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0, seed=7)


def restyle(api: Api, source: str, prompt: str, **fields: object) -> dict[str, object]:
    created = api.photo_pilot(imageUrl=source, imageGuidance=2, prompt=prompt, **fields).json()
    return wait_for_status(api, str(created["id"]), {"succeeded"})


def result(api: Api, artwork: dict[str, object]) -> Image.Image:
    return api.image(artwork["results"][0]).convert("RGB")  # type: ignore[index]


def has_caption(image: Image.Image, *, on_top: bool = False) -> bool:
    """A dark strip across the bottom (or the top) with white text on it."""
    quarter = image.height // 4
    strip = image.crop((0, 0, image.width, quarter) if on_top else (0, image.height - quarter, *image.size))
    colours = {colour for _, colour in strip.getcolors(maxcolors=1 << 20) or []}
    return CAPTION_STRIP in colours and any(min(colour) > 220 for colour in colours)


def test_an_upscale_of_a_sample_is_that_sample_larger(api: Api, tengr_emulator: TengrEmulator) -> None:
    source_url = tengr_emulator.sample_image_url("shoe", width=160, height=120)
    source = api.image(source_url).convert("RGB")

    upscaled = result(api, api.upscale(source_url, 3).json())

    assert upscaled.size == (480, 360)
    assert (
        ImageChops.difference(upscaled.resize(source.size, Image.Resampling.NEAREST), source).getbbox()
        is None
    )


def test_an_upscale_of_a_restyle_is_that_restyle_larger(api: Api, tengr_emulator: TengrEmulator) -> None:
    restyled = restyle(
        api, tengr_emulator.sample_image_url("mug", width=300, height=200), "blue studio light"
    )
    small = result(api, restyled)

    upscaled = result(api, api.upscale(restyled["results"][0], 2).json())  # type: ignore[index]

    assert upscaled.size == (600, 400)
    assert (
        ImageChops.difference(upscaled.resize(small.size, Image.Resampling.NEAREST), small).getbbox() is None
    )


def test_a_restyle_is_its_source_tinted_by_its_prompt_with_a_caption(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    source_url = tengr_emulator.sample_image_url("lamp", width=400, height=400)
    source = api.image(source_url).convert("RGB")

    restyled = result(api, restyle(api, source_url, "warm evening glow"))

    tint = tint_for("warm evening glow", seed=7)
    expected = Image.blend(source, Image.new("RGB", source.size, tint), TINT_SHARE)
    assert (
        ImageChops.difference(restyled.crop((0, 0, 400, 200)), expected.crop((0, 0, 400, 200))).getbbox()
        is None
    )
    assert has_caption(restyled)  # its own, under the source's name (tinted, on top)


def test_two_prompts_tint_the_same_source_differently(api: Api, tengr_emulator: TengrEmulator) -> None:
    source_url = tengr_emulator.sample_image_url("vase", width=200, height=200)

    one = result(api, restyle(api, source_url, "cold morning"))
    other = result(api, restyle(api, source_url, "hot noon"))

    assert one.getpixel((5, 5)) != other.getpixel((5, 5))


def test_the_same_request_draws_the_same_picture_but_for_the_id_in_its_caption(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    source_url = tengr_emulator.sample_image_url("cup", width=300, height=300)

    first = result(api, restyle(api, source_url, "soft light"))
    second = result(api, restyle(api, source_url, "soft light"))

    above_caption = (0, 0, 300, 200)
    assert ImageChops.difference(first.crop(above_caption), second.crop(above_caption)).getbbox() is None
    assert ImageChops.difference(first, second).getbbox() is not None  # the artwork ids differ


def test_a_style_dna_image_shows_its_description(api: Api) -> None:
    plain = api.image(api.style_dna(width=512, height=512).json()["imageUrl"]).convert("RGB")

    assert has_caption(plain)


def test_a_sample_shows_its_name(api: Api, tengr_emulator: TengrEmulator) -> None:
    assert has_caption(api.image(tengr_emulator.sample_image_url("sneaker-red")).convert("RGB"), on_top=True)


def test_without_pillow_every_picture_is_drawn_plain_at_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "pillow_available", lambda: False)
    picture = Picture(
        Size(64, 48), "key", sample_picture("src.png", Size(32, 24)), (255, 0, 0), ("a caption",)
    )

    assert images.encode(picture, "png") == images.encode_png(Size(64, 48), "key")
