"""The tengr.ai API's requests and responses, with every documented rule stated once.

The hook, the operators and the local emulator all validate through these models, so a rule that
changes changes in one place. Requests reject what the API would reject *before* a request is sent
(no credit is spent on an input we could have refused); responses accept unknown fields, because the
API adds fields over time and a pipeline must not break on them.

Python code uses snake_case names; the wire uses camelCase aliases. Either spelling is accepted.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from enum import Enum, IntEnum
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from tengr_provider.request_errors import TengrRequestValidationError, describe_validation_error

#: Aspect ratios the API accepts for photo-pilot and style-dna.
AspectRatio = Literal["1:1", "2:3", "3:4", "4:3", "9:16", "3:2", "16:9"]
#: Output formats of style-dna.
ImageFormat = Literal["png", "webp"]

#: Smallest and largest edge (px) of a requested width or height.
MIN_EDGE = 512
MAX_EDGE = 2048
#: photo-pilot's pixel-area cap, and the one that applies with ``highResolution``.
PHOTO_PILOT_MAX_AREA = 1_478_656
PHOTO_PILOT_HIGH_RESOLUTION_MAX_AREA = 1_763_584
#: style-dna's pixel-area cap.
STYLE_DNA_MAX_AREA = 1_763_584
#: Largest source image (px) the upscaler takes; the server checks it, the client cannot.
UPSCALING_MAX_SOURCE_AREA = 1_478_656
#: Word limits past which the server truncates (a warning, not an error).
PROMPT_WORD_LIMIT = 256
NEGATIVE_PROMPT_WORD_LIMIT = 64
#: Largest page of the artworks list (``limit`` 1..500).
LIST_LIMIT_MAX = 500
#: How long the API keeps an artwork and its images (documented for V2 since v2.2.0); 404 after.
ARTWORK_RETENTION = timedelta(days=8)


class ImageGuidance(IntEnum):
    """How closely photo-pilot follows the source image.

    The API documents the values 1, 2 and 3 but never prints which is LOW; we follow the API's own
    hint that size fields apply "when image guidance is set to low" and take 1 = LOW, 3 = HIGH.
    """

    LOW = 1
    MEDIUM = 2
    HIGH = 3


class ArtworkStatus(str, Enum):
    """The states an artwork moves through; it knows which ones end the wait.

    A status the API adds later (one not listed here) still parses: it becomes a member outside the
    list, whose ``value`` is the API's word, that is neither terminal nor a success. A wait goes on
    through it until a known final state or its deadline, instead of failing to read the artwork.
    """

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"

    @classmethod
    def _missing_(cls, value: object) -> ArtworkStatus | None:
        """An unknown word: a member of its own, so the artwork (and its id) is never lost."""
        if not isinstance(value, str) or not value:
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """False for a status the API added after this provider was written."""
        return self.value in type(self)._value2member_map_

    @property
    def is_terminal(self) -> bool:
        """True when the artwork will not change any more (never for an unknown status)."""
        return self.is_known and self not in (ArtworkStatus.STARTING, ArtworkStatus.PROCESSING)

    @property
    def is_success(self) -> bool:
        """True when the artwork finished and its ``results`` hold the images."""
        return self in (ArtworkStatus.SUCCEEDED, ArtworkStatus.DONE)

    @classmethod
    def of(cls, value: str) -> ArtworkStatus | None:
        """The listed status named ``value``, or None for any other word (a caller's ``not_found``)."""
        member = cls._value2member_map_.get(value)
        return member if isinstance(member, ArtworkStatus) else None


def _http_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


def _check_size(
    width: int | None,
    height: int | None,
    aspect_ratio: str | None,
    max_area: int,
    cap_name: str,
) -> None:
    if (width is None) != (height is None):
        given, missing = ("width", "height") if width is not None else ("height", "width")
        raise ValueError(f"{missing}: required when {given} is given (width and height go together)")
    if width is None or height is None:
        return
    if aspect_ratio is not None:
        raise ValueError("aspect_ratio: cannot be combined with width/height; give one or the other")
    area = width * height
    if area > max_area:
        raise ValueError(f"width: area {width}x{height}={area} px exceeds {max_area} px ({cap_name})")


def _word_limit_warning(field: str, text: str | None, limit: int) -> list[str]:
    words = len(text.split()) if text is not None else 0
    if words <= limit:
        return []
    return [f"{field} has {words} words; tengr.ai keeps the first {limit} and truncates the rest"]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ApiRequest(_Model):
    """Base of the request models.

    Requests forbid unknown fields: a typo must fail here, not be silently dropped by the server.
    """

    model_config = ConfigDict(extra="forbid")

    def to_api(self) -> dict[str, Any]:
        """The JSON body as the API expects it: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def warnings(self) -> list[str]:
        """What the API accepts but will not do as written (it truncates, it ignores a field).

        Not errors, and not logged here: validation has no side effects, and the caller says them once
        (the hook logs them with the create call that sends the request).
        """
        return []


#: What a request field's description says of the rules that span fields (read by the docs table).
_SIZE_ONLY_WITH_LOW = "honoured only with `image_guidance` LOW (otherwise the source's size is used)"
_WEBHOOK = (
    "URL the API POSTs the final artwork to; https on a public host, unless the connection sets "
    "`allow_insecure_webhooks`"
)
_V2_WEBHOOK = f"API V2 only (with `api_version` `v1` it fails before sending). {_WEBHOOK}"


class PhotoPilotRequest(ApiRequest):
    """Body of the photo-pilot call (image-to-image, asynchronous).

    Each field is stated here once, with its rule and its description: the operator's keyword arguments
    and template fields, the ``@task`` TypedDict and the docs table are derived from it.
    """

    image_url: str = Field(description="the source image, an http(s) URL")
    image_guidance: ImageGuidance = Field(
        description="how closely the result follows the source: 1 is LOW, 3 is HIGH (`ImageGuidance`)"
    )
    # The API names these three levels without saying what each step does.
    modification: int = Field(ge=1, le=5, description="modification level")
    creativity: int = Field(ge=1, le=5, description="creativity level")
    effort: int = Field(ge=1, le=5, description="effort level")
    prompt: str | None = Field(
        default=None,
        description=(
            f"what the result should show; the server keeps {PROMPT_WORD_LIMIT} words (more: a warning)"
        ),
    )
    negative_prompt: str | None = Field(
        default=None,
        description=(
            f"what the result should not show; the server keeps {NEGATIVE_PROMPT_WORD_LIMIT} words "
            "(more: a warning)"
        ),
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None, description=f"never with `width`/`height`; {_SIZE_ONLY_WITH_LOW}"
    )
    high_resolution: bool | None = Field(
        default=None, description=f"raises the area cap to {PHOTO_PILOT_HIGH_RESOLUTION_MAX_AREA:,} px"
    )
    width: int | None = Field(
        default=None,
        ge=MIN_EDGE,
        le=MAX_EDGE,
        description=(
            f"with `height`; area ≤ {PHOTO_PILOT_MAX_AREA:,} px, or ≤ "
            f"{PHOTO_PILOT_HIGH_RESOLUTION_MAX_AREA:,} px with `high_resolution`; {_SIZE_ONLY_WITH_LOW}"
        ),
    )
    height: int | None = Field(default=None, ge=MIN_EDGE, le=MAX_EDGE, description="with `width` (see there)")
    webhook: str | None = Field(default=None, description=_WEBHOOK)
    seed: int | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="API V2: the seed of the result (the server uses floor(seed * 1.2) + 17); default random",
    )

    @field_validator("image_url", "webhook")
    @classmethod
    def _urls_are_http(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @model_validator(mode="after")
    def _size_rules(self) -> PhotoPilotRequest:
        if self.high_resolution:
            cap, cap_name = PHOTO_PILOT_HIGH_RESOLUTION_MAX_AREA, "photo-pilot cap with high_resolution"
        else:
            cap = PHOTO_PILOT_MAX_AREA
            cap_name = f"photo-pilot cap; high_resolution raises it to {PHOTO_PILOT_HIGH_RESOLUTION_MAX_AREA}"
        _check_size(self.width, self.height, self.aspect_ratio, cap, cap_name)
        return self

    def warnings(self) -> list[str]:
        """Prompts past their word limits; size fields that only apply with ``image_guidance`` LOW."""
        found = [
            *_word_limit_warning("prompt", self.prompt, PROMPT_WORD_LIMIT),
            *_word_limit_warning("negative_prompt", self.negative_prompt, NEGATIVE_PROMPT_WORD_LIMIT),
        ]
        sized = [
            name
            for name in ("aspect_ratio", "width", "height", "high_resolution")
            if getattr(self, name) is not None
        ]
        if sized and self.image_guidance is not ImageGuidance.LOW:
            found.append(
                f"{', '.join(sized)} only apply when image_guidance is LOW ({int(ImageGuidance.LOW)}); "
                f"with {int(self.image_guidance)} tengr.ai uses the source image's size and ignores them"
            )
        return found


class StyleDnaRequest(ApiRequest):
    """Body of the style-dna call (an image in a Style DNA; synchronous in V1, an artwork in V2)."""

    visual_prompt: str = Field(description="the visual style prompt; not empty")
    anchor_image_url: str = Field(description="the anchor image that carries the style, an http(s) URL")
    description: str = Field(description="what the new image shows; not empty")
    aspect_ratio: AspectRatio | None = Field(default=None, description="never with `width`/`height`")
    width: int | None = Field(
        default=None,
        ge=MIN_EDGE,
        le=MAX_EDGE,
        description=f"with `height`; area ≤ {STYLE_DNA_MAX_AREA:,} px",
    )
    height: int | None = Field(default=None, ge=MIN_EDGE, le=MAX_EDGE, description="with `width` (see there)")
    image_format: ImageFormat | None = Field(default=None, description="the server's default is `png`")
    webhook: str | None = Field(default=None, description=_V2_WEBHOOK)

    @field_validator("anchor_image_url", "webhook")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("visual_prompt", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _size_rules(self) -> StyleDnaRequest:
        _check_size(self.width, self.height, self.aspect_ratio, STYLE_DNA_MAX_AREA, "style-dna cap")
        return self

    @property
    def extension(self) -> str:
        """File extension of the image this request produces (the API defaults to png)."""
        return self.image_format or "png"


class UpscalingRequest(ApiRequest):
    """Body of the upscaling call.

    The source image's area cap (:data:`UPSCALING_MAX_SOURCE_AREA`) only the server can check, since the
    client never downloads the source.
    """

    image_url: str = Field(
        description=(
            f"the image to upscale, an http(s) URL; JPEG, PNG or WebP of at most "
            f"{UPSCALING_MAX_SOURCE_AREA:,} px (only the server can check that)"
        )
    )
    scale_factor: int = Field(default=2, ge=2, le=8, description="how many times larger")
    webhook: str | None = Field(default=None, description=_V2_WEBHOOK)

    @field_validator("image_url", "webhook")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class _Response(_Model):
    """Responses keep unknown fields: the API may add some and a pipeline must not break."""

    model_config = ConfigDict(extra="allow")


class Artwork(_Response):
    """An artwork as the artwork read (``GET /<version>/artworks/{id}``) returns it."""

    id: str
    status: ArtworkStatus
    artwork_type: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    duration: float | None = None
    results: list[str] = Field(default_factory=list)
    created_at: datetime | None = None

    def to_api(self) -> dict[str, Any]:
        """The artwork as the API names it (camelCase), JSON-ready for an XCom."""
        return self.model_dump(by_alias=True, mode="json")

    def as_artwork(self) -> Artwork:
        """The artwork itself: V2's style-dna answer is one already (see :meth:`StyleDnaImage.as_artwork`)."""
        return self


def list_lags(read: Artwork, listed: Artwork) -> bool:
    """Whether the artworks list, read after ``read``, shows the artwork less far along than that read.

    An artwork only moves forward, so a list read later must be at least as far along: a list that
    still shows in flight (``listed``) what a read by id said had ended lags behind the reads
    (``tengr-doctor``'s ``list-fresh`` assumption; the status poller then reads by id).
    """
    return read.status.is_terminal and not listed.status.is_terminal


def list_pages_for(artworks: int, *, extra: int) -> int:
    """List pages to read, newest first, for ``artworks`` recent artworks of one's own: as many as they
    can fill at :data:`LIST_LIMIT_MAX` a page, plus ``extra`` for the ones others created meanwhile."""
    return math.ceil(artworks / LIST_LIMIT_MAX) + extra


class StyleDnaImage(_Response):
    """A style-dna image, and the one shape the style-dna operator returns whatever the API version.

    API V1 answers with it at once (without ``artwork_id``). API V2 answers with an artwork to wait
    for; :meth:`from_artwork` turns the finished artwork into this shape, so a DAG does not change when
    its connection moves to V2. Its URL stops working at ``expires_at``.
    """

    image_url: str
    expires_at: datetime
    credits_used: float | None = None
    artwork_id: str | None = None

    @classmethod
    def from_artwork(cls, artwork: Artwork) -> StyleDnaImage:
        """The image of a succeeded V2 style-dna artwork: its first result.

        The V2 answer's body is not documented; we assume an artwork whose ``results`` hold the image.
        An ``imageUrl``/``expiresAt``/``creditsUsed`` the artwork carries wins; otherwise the image
        expires with the artwork, :data:`ARTWORK_RETENTION` after ``createdAt``.
        """
        extra = artwork.model_extra or {}
        image_url = extra.get("imageUrl") or (artwork.results[0] if artwork.results else None)
        if not image_url:
            raise ValueError(f"artwork {artwork.id} succeeded without a result image")
        created = artwork.created_at or datetime.now(timezone.utc)
        return cls(
            image_url=image_url,
            expires_at=extra.get("expiresAt") or created + ARTWORK_RETENTION,
            credits_used=extra.get("creditsUsed"),
            artwork_id=artwork.id or None,
        )

    def as_artwork(self) -> Artwork:
        """This image as a finished artwork, the shape a V2 answer has: what the style-dna operator keeps.

        V1 makes no artwork, so the id is empty; :meth:`from_artwork` turns it back into this image.
        """
        return Artwork.model_validate(
            {
                "id": self.artwork_id or "",
                "status": ArtworkStatus.SUCCEEDED,
                "results": [self.image_url],
                **self.to_api(),
            }
        )

    def to_api(self) -> dict[str, Any]:
        """The answer as the API names it (camelCase), JSON-ready for an XCom."""
        return self.model_dump(by_alias=True, mode="json")


class ApiError(_Response):
    """The error body of every non-2xx answer; NestJS validation errors give ``message`` as a list."""

    message: str | list[str] = ""
    status_code: int | None = None
    error: str | None = None


_RequestT = TypeVar("_RequestT", bound=ApiRequest)


def parse_request(model: type[_RequestT], data: _RequestT | dict[str, Any]) -> _RequestT:
    """Validate ``data`` into ``model``, raising :class:`TengrRequestValidationError` on any broken rule.

    A model instance passes through; a dict may use snake_case or camelCase keys.
    """
    if isinstance(data, model):
        return data
    if not isinstance(data, dict):
        raise TengrRequestValidationError(
            model.__name__, [f"expected a {model.__name__} or a dict, got {type(data).__name__}"]
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise TengrRequestValidationError(model.__name__, describe_validation_error(model, error)) from None
