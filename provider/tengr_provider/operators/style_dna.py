"""Generate an image in a Style DNA (waiting for it under API V2) and keep it before its URL expires."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from pydantic import JsonValue

from tengr_provider.exceptions import TengrArtworkFailedError
from tengr_provider.hooks._wait import note_unknown_status
from tengr_provider.models import Artwork, StyleDnaImage, StyleDnaRequest
from tengr_provider.operators._base import TengrArtworkOperator
from tengr_provider.storage import style_dna_file_stem

if TYPE_CHECKING:
    from tengr_provider.version_compat import Context

#: A stored image URL this close to its expiry is not worth reusing on a retry.
_EXPIRY_MARGIN = timedelta(minutes=2)


class TengrStyleDnaOperator(TengrArtworkOperator):
    """Generate an image in the style of ``anchor_image_url`` showing ``description``.

    Under API V1 the call is synchronous: the image is ready when it returns. Under API V2 it answers
    with an artwork, which the operator waits for like photo-pilot (``poll_interval``, ``timeout``,
    ``deferrable``) before reading its image. Either way the image URL stops working at ``expiresAt``,
    so set ``output_path`` to keep it. The file is named after the request (``style-dna_<hash>.<ext>``),
    so a retried task overwrites it. On Airflow 3.3+ the answer (V1) or the artwork id (V2) is kept in
    the task state store: a retry (say, after a storage error) copies the same image again instead of
    paying for a new one, as long as its URL has not expired.

    Returns the same shape under both versions: ``{"imageUrl", "expiresAt", "creditsUsed",
    "artworkId"}`` (``artworkId`` is null under V1, ``creditsUsed`` null when V2 does not say) plus
    ``files`` when ``output_path`` is set. See ``docs/api-versions.md``.

    :param visual_prompt: the visual style prompt.
    :param anchor_image_url: the anchor image that carries the style (http(s) URL).
    :param description: what the new image shows.
    :param aspect_ratio: one of ``1:1 2:3 3:4 4:3 9:16 3:2 16:9``; not with width/height.
    :param width: 512..2048, with ``height`` (area capped, see ``docs/request-rules.md``).
    :param height: 512..2048, with ``width``.
    :param image_format: ``png`` (default) or ``webp``.
    :param webhook: URL the API POSTs the final artwork to (API V2 only).
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
        "webhook",
    )
    template_fields = (*TengrArtworkOperator.template_fields, *request_fields)
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
        webhook: str | None = None,
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
        self.webhook = webhook

    # ResumableJobMixin. The "job" is the generated image (V1: the answer itself, a dict, reused while
    # its URL is valid) or the artwork that makes it (V2: its id, reconnected to like photo-pilot's).
    def submit_job(self, context: Context) -> JsonValue:
        """Ask for the image; V1's answer, or V2's artwork id, is what a retry reuses."""
        answer = self.hook.submit_style_dna(cast("StyleDnaRequest", self.build_request()))
        if isinstance(answer, Artwork):
            self.log.info("Created tengr.ai style-dna artwork %s (%s)", answer.id, answer.status.value)
            note_unknown_status(answer, set(), self.log)
            self._artwork = answer
            return answer.id
        credits = "unknown" if answer.credits_used is None else f"{answer.credits_used:g}"
        self.log.info(
            "Generated style-dna image (%s credits), URL valid until %s",
            credits,
            answer.expires_at.isoformat(),
        )
        return answer.to_api()

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """V1: ``succeeded`` while the stored URL is still valid, else ``expired``; V2: the artwork's."""
        if not isinstance(external_id, dict):
            return super().get_job_status(external_id, context)
        return "succeeded" if _still_valid(StyleDnaImage.model_validate(external_id)) else "expired"

    def poll_until_complete(self, external_id: JsonValue, context: Context) -> Any:
        """V1: nothing to wait for, the image exists; V2: wait for the artwork, then read its image."""
        if isinstance(external_id, dict):
            return None
        return super().poll_until_complete(external_id, context)

    def get_job_result(self, external_id: JsonValue, context: Context) -> dict[str, Any]:
        """The image (the same shape under V1 and V2), after it was copied to ``output_path``."""
        if isinstance(external_id, dict):
            return self._store_image(StyleDnaImage.model_validate(external_id), context)
        return super().get_job_result(external_id, context)

    def _finish(self, artwork: Artwork, context: Context) -> dict[str, Any]:
        """A finished V2 artwork (waited for here or in the triggerer) in the V1 answer's shape."""
        if not artwork.status.is_success:
            raise TengrArtworkFailedError(artwork.id, artwork.status.value)
        return self._store_image(StyleDnaImage.from_artwork(artwork), context)

    def _store_image(self, image: StyleDnaImage, context: Context) -> dict[str, Any]:
        result = image.to_api()
        copier = self._copier()
        if copier is not None:
            stem = style_dna_file_stem(self.build_request().to_api())
            try:
                result["files"] = [copier.copy(image.image_url, stem)]
            finally:
                copier.close()
        self._push_links(context, [image.image_url], result.get("files"))
        return result


def _still_valid(image: StyleDnaImage) -> bool:
    """Whether a stored image's URL works long enough to copy it again."""
    expires_at = (
        image.expires_at if image.expires_at.tzinfo else image.expires_at.replace(tzinfo=timezone.utc)
    )
    return expires_at - _EXPIRY_MARGIN > datetime.now(timezone.utc)
