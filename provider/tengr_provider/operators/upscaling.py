"""Upscale an image x2..x8: finished at once under API V1, waited for under V2."""

from __future__ import annotations

from typing import Any

from tengr_provider.models import Artwork, UpscalingRequest
from tengr_provider.operators._base import TengrArtworkOperator


class TengrUpscaleOperator(TengrArtworkOperator):
    """Upscale ``image_url`` by ``scale_factor``.

    API V1 answers ``done`` (or ``failed``) at once; API V2 answers an ``upscaling_v2`` artwork that
    is ``starting``, which the operator waits on like photo-pilot (and so it would for any unfinished
    V1 answer). Returns the artwork as the API names it, plus ``files`` when ``output_path`` is set.

    :param image_url: the image to upscale (http(s) URL; JPEG/PNG/WebP within the source area cap).
    :param scale_factor: 2..8 (default 2).
    :param webhook: URL the API POSTs the final artwork to (API V2 only).
    """

    request_model = UpscalingRequest
    request_fields = ("image_url", "scale_factor", "webhook")
    template_fields = (*TengrArtworkOperator.template_fields, *request_fields)

    def __init__(
        self, *, image_url: str, scale_factor: int | str = 2, webhook: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.image_url = image_url
        self.scale_factor = scale_factor
        self.webhook = webhook

    def create(self, request: Any) -> Artwork:
        """The API version's upscaling call (see :mod:`tengr_provider.api_paths`)."""
        return self.hook.create_upscaling(request)
