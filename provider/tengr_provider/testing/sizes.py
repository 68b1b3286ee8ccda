"""How big the emulator's result images are, derived from the request the way the API documents it.

The API does not publish the pixel sizes behind each aspect ratio. The emulator picks, per ratio, the
exact-ratio size with edges in multiples of 8 whose area is nearest 1024x1024 (1280x1280 with
``highResolution``) without leaving the documented edge range or area cap. The table is in the docs.
"""

from __future__ import annotations

from typing import NamedTuple

from tengr_provider.models import ImageGuidance, PhotoPilotRequest, StyleDnaRequest


class Size(NamedTuple):
    """Width and height of an image in pixels."""

    width: int
    height: int

    @property
    def area(self) -> int:
        """Pixel count, the quantity the API's caps are stated in."""
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


#: The size a source image is assumed to have when the emulator cannot know it (an external URL:
#: the emulator never fetches anything), the default size of sample and style-dna images, and the size
#: of the account's past artworks (``past_artworks``).
DEFAULT_SIZE = Size(1024, 1024)

#: Output size per aspect ratio, near a 1024x1024 area.
ASPECT_RATIO_SIZES: dict[str, Size] = {
    "1:1": Size(1024, 1024),
    "2:3": Size(832, 1248),
    "3:4": Size(888, 1184),
    "4:3": Size(1184, 888),
    "9:16": Size(792, 1408),
    "3:2": Size(1248, 832),
    "16:9": Size(1408, 792),
}

#: Output size per aspect ratio for photo-pilot with ``highResolution``, near a 1280x1280 area.
HIGH_RESOLUTION_SIZES: dict[str, Size] = {
    "1:1": Size(1280, 1280),
    "2:3": Size(1040, 1560),
    "3:4": Size(1104, 1472),
    "4:3": Size(1472, 1104),
    "9:16": Size(936, 1664),
    "3:2": Size(1560, 1040),
    "16:9": Size(1664, 936),
}


def photo_pilot_size(request: PhotoPilotRequest, source: Size, low: int = ImageGuidance.LOW) -> Size:
    """Size of a photo-pilot result.

    Size fields count only with LOW image guidance (the API's rule); otherwise, or when none is
    given, the result keeps the source image's size.

    :param request: the validated request.
    :param source: the source image's size (known for emulator URLs, else :data:`DEFAULT_SIZE`).
    :param low: the ``imageGuidance`` value that is LOW (1, as the provider assumes, unless the
        emulator's ``low_image_guidance`` contradicts it).
    """
    if int(request.image_guidance) != low:
        return source
    if request.width is not None and request.height is not None:
        return Size(request.width, request.height)
    if request.aspect_ratio is not None:
        table = HIGH_RESOLUTION_SIZES if request.high_resolution else ASPECT_RATIO_SIZES
        return table[request.aspect_ratio]
    return source


def style_dna_size(request: StyleDnaRequest) -> Size:
    """Size of a style-dna image: the requested width/height or aspect ratio, else 1024x1024."""
    if request.width is not None and request.height is not None:
        return Size(request.width, request.height)
    if request.aspect_ratio is not None:
        return ASPECT_RATIO_SIZES[request.aspect_ratio]
    return DEFAULT_SIZE


def upscaled_size(source: Size, scale_factor: int) -> Size:
    """Size of an upscaling result: the source scaled by ``scale_factor`` on both edges."""
    return Size(source.width * scale_factor, source.height * scale_factor)
