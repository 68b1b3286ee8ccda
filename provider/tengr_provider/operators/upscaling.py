"""Upscale an image x2..x8; the API usually answers with a finished artwork."""

from __future__ import annotations

from typing import Any

from tengr_provider.models import Artwork, UpscalingRequest
from tengr_provider.operators._base import TengrArtworkOperator


class TengrUpscaleOperator(TengrArtworkOperator):
    """Upscale ``image_url`` by ``scale_factor``.

    The API answers ``done`` (or ``failed``) at once in v1; should it ever answer an unfinished
    artwork, the operator waits on it like photo-pilot. Returns the artwork as the API names it, plus
    ``files`` when ``output_path`` is set.

    :param image_url: the image to upscale (http(s) URL; at most 1,478,656 px, JPEG/PNG/WebP).
    :param scale_factor: 2..8 (default 2).
    """

    request_model = UpscalingRequest
    request_fields = ("image_url", "scale_factor")
    template_fields = (*TengrArtworkOperator.template_fields, *request_fields)

    def __init__(self, *, image_url: str, scale_factor: int | str = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image_url = image_url
        self.scale_factor = scale_factor

    def create(self, request: Any) -> Artwork:
        """``POST /v1/artworks/upscaling``."""
        return self.hook.create_upscaling(request)
