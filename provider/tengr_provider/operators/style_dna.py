"""Generate an image in a Style DNA (waiting for it under API V2) and keep it before its URL expires."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from pydantic import JsonValue, ValidationError

from tengr_provider.exceptions import TengrArtworkFailedError
from tengr_provider.hooks._wait import note_unknown_status
from tengr_provider.models import Artwork, StyleDnaImage, StyleDnaRequest
from tengr_provider.operators._base import GONE, TengrArtworkOperator
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
    so a retried task overwrites it. On Airflow 3.3+ the answer is kept in the task state store as an
    artwork (V2's, or V1's image as a finished one): a retry (say, after a storage error) copies the same
    image again instead of paying for a new one, as long as its URL has not expired.

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

    # ResumableJobMixin. The job is one shape under both API versions: an artwork. V2 answers with one
    # (starting); V1 answers with the image itself, kept as a finished artwork that carries it
    # (StyleDnaImage.as_artwork). The stored JSON is that artwork, so a retry either finds it finished
    # (V1: reuse the image while its URL lasts) or reads it again by id like photo-pilot's (V2).
    def submit_job(self, context: Context) -> JsonValue:
        """Ask for the image; the artwork that is (V1) or makes (V2) it is what a retry reuses."""
        request = cast("StyleDnaRequest", self.build_request())
        artwork = self.hook.submit_style_dna(request).as_artwork()
        self.log.info(
            "tengr.ai style-dna answered: artwork %s (%s)",
            artwork.id or "none (API V1 answers with the image)",
            artwork.status.value,
        )
        note_unknown_status(artwork, set(), self.log)
        self._artwork = artwork
        return artwork.to_api()

    def _stored(self, external_id: JsonValue) -> Artwork:
        """The stored artwork, now the one in hand (unless a newer read of the same artwork is)."""
        stored = Artwork.model_validate(external_id)
        if self._artwork is None or self._artwork.id != stored.id:
            self._artwork = stored
        return self._artwork

    def _artwork_id(self, external_id: JsonValue) -> str:
        """The id of the stored artwork, which is now in hand."""
        return self._stored(external_id).id

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """A stored artwork that succeeded carries its image: reusable while its URL lasts. Any other is
        read again from the API, as photo-pilot's; one stored by another version of the provider is gone."""
        try:
            artwork = self._stored(external_id)
        except ValidationError:
            self.log.warning("Stored style-dna job %r is not an artwork; asking for a new image", external_id)
            return GONE
        if not artwork.status.is_success:
            return super().get_job_status(external_id, context)
        return artwork.status.value if _still_valid(StyleDnaImage.from_artwork(artwork)) else GONE

    def _finish(self, artwork: Artwork, context: Context) -> dict[str, Any]:
        """A finished artwork (V1's answer, or V2's waited for here or in the triggerer) as the image."""
        if not artwork.status.is_success:
            raise TengrArtworkFailedError(artwork.id, artwork.status.value)
        image = StyleDnaImage.from_artwork(artwork)
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
