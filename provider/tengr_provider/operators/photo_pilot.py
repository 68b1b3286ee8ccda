"""Restyle a source image with photo-pilot (image-to-image), waiting for the artwork to finish."""

from __future__ import annotations

from typing import Any

from tengr_provider.models import Artwork, PhotoPilotRequest
from tengr_provider.operators._base import TengrArtworkOperator


class TengrPhotoPilotOperator(TengrArtworkOperator):
    """Create a photo-pilot artwork from ``image_url`` and (by default) wait for it.

    Every request field is templated and validated after rendering, before anything is sent; see
    ``docs/request-rules.md`` for the rules. Returns the artwork as the API names it (``id``,
    ``status``, ``results``, ...) plus ``files`` when ``output_path`` is set.

    :param image_url: the source image (http(s) URL).
    :param image_guidance: 1 (LOW), 2 or 3 (HIGH): how closely to follow the source.
    :param modification: 1..5.
    :param creativity: 1..5.
    :param effort: 1..5.
    :param prompt: what the result should show (the server keeps 256 words).
    :param negative_prompt: what it should not show (the server keeps 64 words).
    :param aspect_ratio: one of ``1:1 2:3 3:4 4:3 9:16 3:2 16:9``; not with width/height.
    :param high_resolution: raise the pixel-area cap.
    :param width: 512..2048, with ``height``; honoured only with image_guidance LOW.
    :param height: 512..2048, with ``width``.
    :param webhook: URL the API POSTs the final artwork to.
    """

    request_model = PhotoPilotRequest
    request_fields = (
        "image_url",
        "image_guidance",
        "modification",
        "creativity",
        "effort",
        "prompt",
        "negative_prompt",
        "aspect_ratio",
        "high_resolution",
        "width",
        "height",
        "webhook",
    )
    template_fields = (*TengrArtworkOperator.template_fields, *request_fields)

    def __init__(
        self,
        *,
        image_url: str,
        image_guidance: int | str,
        modification: int | str,
        creativity: int | str,
        effort: int | str,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        aspect_ratio: str | None = None,
        high_resolution: bool | str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        webhook: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_url = image_url
        self.image_guidance = image_guidance
        self.modification = modification
        self.creativity = creativity
        self.effort = effort
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.aspect_ratio = aspect_ratio
        self.high_resolution = high_resolution
        self.width = width
        self.height = height
        self.webhook = webhook

    def create(self, request: Any) -> Artwork:
        """The API version's photo-pilot call (see :mod:`tengr_provider.api_paths`)."""
        return self.hook.create_photo_pilot(request)
