"""Generate an image in a Style DNA and keep it before its URL expires."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from pydantic import JsonValue

from tengr_provider.models import StyleDnaImage, StyleDnaRequest
from tengr_provider.operators._base import TengrBaseOperator
from tengr_provider.storage import style_dna_file_stem

if TYPE_CHECKING:
    from tengr_provider.version_compat import Context

#: A stored image URL this close to its expiry is not worth reusing on a retry.
_EXPIRY_MARGIN = timedelta(minutes=2)


class TengrStyleDnaOperator(TengrBaseOperator):
    """Generate an image in the style of ``anchor_image_url`` showing ``description``.

    The call is synchronous: the image is ready when it returns, but its URL stops working at
    ``expiresAt``, so set ``output_path`` to keep it. The file is named after the request
    (``style-dna_<hash>.<ext>``), so a retried task overwrites it. On Airflow 3.3+ the answer is kept
    in the task state store: a retry (say, after a storage error) copies the same image again instead of
    paying for a new one, as long as its URL has not expired.

    Returns ``{"imageUrl", "expiresAt", "creditsUsed"}`` plus ``files`` when ``output_path`` is set.

    :param visual_prompt: the visual style prompt.
    :param anchor_image_url: the anchor image that carries the style (http(s) URL).
    :param description: what the new image shows.
    :param aspect_ratio: one of ``1:1 2:3 3:4 4:3 9:16 3:2 16:9``; not with width/height.
    :param width: 512..2048, with ``height`` (area at most 1,763,584 px).
    :param height: 512..2048, with ``width``.
    :param image_format: ``png`` (default) or ``webp``.
    """

    request_model = StyleDnaRequest
    request_fields = (
        "visual_prompt",
        "anchor_image_url",
        "description",
        "aspect_ratio",
        "width",
        "height",
        "image_format",
    )
    template_fields = (*TengrBaseOperator.template_fields, *request_fields)
    external_id_key = "tengr_style_dna_image"

    def __init__(
        self,
        *,
        visual_prompt: str,
        anchor_image_url: str,
        description: str,
        aspect_ratio: str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        image_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.visual_prompt = visual_prompt
        self.anchor_image_url = anchor_image_url
        self.description = description
        self.aspect_ratio = aspect_ratio
        self.width = width
        self.height = height
        self.image_format = image_format

    # ResumableJobMixin: the "job" is the generated image; its stored answer is reused while valid.
    def submit_job(self, context: Context) -> JsonValue:
        """Generate the image; the answer itself (URL, expiry, credits) is what a retry reuses."""
        image = self.hook.generate_style_dna(cast("StyleDnaRequest", self.build_request()))
        self.log.info(
            "Generated style-dna image (%g credits), URL valid until %s",
            image.credits_used,
            image.expires_at.isoformat(),
        )
        return image.to_api()

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """``succeeded`` while the stored URL is still valid, else ``expired`` (generate again)."""
        image = StyleDnaImage.model_validate(external_id)
        expires_at = (
            image.expires_at if image.expires_at.tzinfo else image.expires_at.replace(tzinfo=timezone.utc)
        )
        return "succeeded" if expires_at - _EXPIRY_MARGIN > datetime.now(timezone.utc) else "expired"

    def is_job_active(self, status: str) -> bool:
        """Style-dna never runs in the background."""
        return False

    def is_job_succeeded(self, status: str) -> bool:
        """A stored image whose URL still works."""
        return status == "succeeded"

    def poll_until_complete(self, external_id: JsonValue, context: Context) -> None:
        """Nothing to wait for: the image exists when the call returns."""

    def get_job_result(self, external_id: JsonValue, context: Context) -> dict[str, Any]:
        """The answer, after the image was copied to ``output_path``."""
        image = StyleDnaImage.model_validate(external_id)
        self._push_result_url(context, image.image_url)
        result = image.to_api()
        copier = self._copier()
        if copier is not None:
            stem = style_dna_file_stem(self.build_request().to_api())
            try:
                result["files"] = [copier.copy(image.image_url, stem)]
            finally:
                copier.close()
        return result
