"""The request fields a ``@task.tengr_*`` function returns, as TypedDicts an IDE and mypy understand.

Annotate the decorated function's return type with one of these and the editor completes the field
names and checks their types. They only describe the shape: the rules (ranges, caps, fields that go
together) live in :mod:`tengr_provider.models` and are checked when the task runs, before any request.
A test keeps these keys equal to the models' fields. Fields marked ``Required`` must be present; the
others may be left out or ``None``.
"""

from __future__ import annotations

from typing_extensions import Required, TypedDict

from tengr_provider.models import AspectRatio, ImageFormat


class PhotoPilotFields(TypedDict, total=False):
    """What a ``@task.tengr_photo_pilot`` function returns.

    The fields of :class:`~tengr_provider.models.PhotoPilotRequest`, which checks their rules.
    """

    image_url: Required[str]
    image_guidance: Required[int]
    modification: Required[int]
    creativity: Required[int]
    effort: Required[int]
    prompt: str | None
    negative_prompt: str | None
    aspect_ratio: AspectRatio | None
    high_resolution: bool | None
    width: int | None
    height: int | None
    webhook: str | None


class StyleDnaFields(TypedDict, total=False):
    """What a ``@task.tengr_style_dna`` function returns.

    The fields of :class:`~tengr_provider.models.StyleDnaRequest`, which checks their rules.
    """

    visual_prompt: Required[str]
    anchor_image_url: Required[str]
    description: Required[str]
    aspect_ratio: AspectRatio | None
    width: int | None
    height: int | None
    image_format: ImageFormat | None
    webhook: str | None


class UpscalingFields(TypedDict, total=False):
    """What a ``@task.tengr_upscale`` function returns.

    The fields of :class:`~tengr_provider.models.UpscalingRequest`, which checks their rules.
    """

    image_url: Required[str]
    scale_factor: int
    webhook: str | None
