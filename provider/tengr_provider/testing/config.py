"""The emulator's settings, checked once so that a typo fails at start-up and not mid-test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from tengr_provider.api_paths import API_VERSIONS, CREATE_CALLS
from tengr_provider.models import ARTWORK_RETENTION, LIST_LIMIT_MAX, ImageGuidance

#: The key the emulator expects unless told otherwise; it is a public test value, not a secret.
DEFAULT_API_KEY = "tengr-emulator-key"
#: How long the real API keeps artworks.
DEFAULT_RETENTION_SECONDS = ARTWORK_RETENTION.total_seconds()
#: How long a style-dna image URL serves before it expires.
DEFAULT_URL_TTL_SECONDS = 3600.0
#: Orders ``GET /v1/artworks`` can list in: ``newest`` first (what the API does and the provider's
#: status poller assumes), ``oldest`` first, or ``shuffled`` (a fresh seeded order on every call).
LIST_ORDERS = ("newest", "oldest", "shuffled")
#: How a 429's ``Retry-After`` is written: seconds (as the API's framework does), an HTTP date, or
#: milliseconds (a form the provider would misread: the contradiction ``tengr-doctor`` reports).
RETRY_AFTER_FORMATS = ("seconds", "http-date", "milliseconds")
#: What V2's style-dna answers: an artwork to wait for (the provider's assumption) or the finished image.
STYLE_DNA_V2_ANSWERS = ("artwork", "image")
#: The values ``low_image_guidance`` may name: the API's image guidances.
_GUIDANCES = tuple(guidance.value for guidance in ImageGuidance)
#: The statuses ``wrong_key_status`` may be: HTTP's client errors.
_CLIENT_ERRORS = frozenset(status.value for status in HTTPStatus if 400 <= status.value <= 499)


def _setting(default: Any, help: str, **cli: Any) -> Any:
    """A field with its one-line description; ``cli`` tunes its command-line option (``cli.py``).

    :param default: the value when the setting is not given.
    :param help: what the setting does (the ``--help`` text; the docs table says more).
    :param cli: ``flag`` (a flag other than ``--<name>``), ``cli_default`` (another default on the command
        line), ``skip`` (an option the CLI spells its own way).
    """
    return field(default=default, metadata={"help": help, **cli})


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour, stated once.

    :class:`~tengr_provider.testing.emulator.TengrEmulator` takes these fields as its keywords and
    ``tengr-emulator`` as its options (``--processing-seconds`` for ``processing_seconds``), both derived
    from this class; each field's ``help`` says what it does and ``docs/testing-with-the-emulator.md``
    says more. The defaults behave like the real API with no faults. All random choices are seeded
    from ``seed``; every share is between 0 and 1.
    """

    host: str = _setting("127.0.0.1", "interface to bind (loopback keeps it private)")
    port: int = _setting(0, "port to bind; 0 picks a free one", cli_default=8099)
    api_key: str | None = _setting(
        DEFAULT_API_KEY, "the only Bearer token accepted; None accepts any non-empty token", skip=True
    )
    processing_seconds: float = _setting(
        2.0, "time for a photo-pilot artwork to finish (the first fifth 'starting', then 'processing')"
    )
    retention_seconds: float = _setting(
        DEFAULT_RETENTION_SECONDS, "age after which artworks and their files answer 404"
    )
    url_ttl_seconds: float = _setting(DEFAULT_URL_TTL_SECONDS, "style-dna image URL lifetime (expiresAt)")
    results_per_artwork: int = _setting(1, "images per successful photo-pilot artwork")
    credits: int | None = _setting(None, "credits available, one per create; None is unlimited")
    seed: int = _setting(0, "seed of every random fault choice, so a sequential run replays exactly")
    rate_limit: float | None = _setting(
        None, "API requests per second before 429 (token bucket, one second's burst); None is off"
    )
    rate_limit_retry_after: bool = _setting(
        True,
        "whether a 429 carries Retry-After (the API does not promise one); the flag sends none",
        flag="--no-retry-after",
    )
    throttle_rate: float = _setting(
        0.0, "share of API requests answered 429 (Retry-After: 1 unless --no-retry-after), whatever the rate"
    )
    error_rate: float = _setting(0.0, "share of API requests answered 500/502/503 before any work")
    gateway_timeout_rate: float = _setting(
        0.0, "share of successful style-dna/upscaling calls answered 504 after the work (credit spent)"
    )
    latency: float = _setting(0.0, "seconds added to delayed API requests")
    latency_rate: float | None = _setting(None, "share of API requests delayed by latency; None delays all")
    drop_rate: float = _setting(0.0, "share of API requests whose connection is closed without an answer")
    failure_rate: float = _setting(0.0, "share of photo-pilot and upscaling artworks that end failed")
    cancel_rate: float = _setting(0.0, "share of photo-pilot artworks that end canceled")
    file_break_rate: float = _setting(
        0.0, "share of image downloads cut off halfway (the headers promised the whole image)"
    )
    file_not_image_rate: float = _setting(0.0, "share of image downloads answered 200 with an HTML page")
    file_padding_bytes: int = _setting(0, "bytes of padding in a private chunk of every PNG result")
    file_chunked: bool = _setting(False, "send result images chunked, without Content-Length")
    unknown_status: str | None = _setting(
        None, "a status the provider does not know (say 'queued'), reported while artworks are in flight"
    )
    list_order: str = _setting(
        "newest", "order of the artworks list: newest (as the API), oldest or shuffled (seeded, every call)"
    )
    list_staleness: float = _setting(
        0.0, "seconds the artworks list lags: it shows each status as it was that long ago (a stale cache)"
    )
    # The settings below each contradict one assumption of tengr_provider.doctor.assumptions; the
    # defaults are the assumptions.
    list_limit_max: int = _setting(
        LIST_LIMIT_MAX, "the largest limit the artworks list accepts; a larger one answers 400"
    )
    moved_route: str | None = _setting(
        None,
        "create calls served at other paths, version:call=/path[,...] (e.g. v2:photo-pilot=/photo-pilot); "
        "their table paths answer 404",
    )
    create_status: int = _setting(202, "the status of an asynchronous create's answer (the API: 202)")
    style_dna_v2_answer: str = _setting(
        "artwork", "what V2's style-dna answers: artwork (to wait for) or image (the finished image, as V1)"
    )
    low_image_guidance: int = _setting(
        1, "the imageGuidance value that is LOW, whose size fields decide a photo-pilot result's size"
    )
    past_artworks: int = _setting(
        0, "finished artworks the account holds at start, one per day back (those past retention are gone)"
    )
    wrong_key_status: int = _setting(401, "the status a missing or wrong key answers (the API: 401)")
    retry_after_format: str = _setting(
        "seconds", "how a 429's Retry-After is written: seconds, http-date or milliseconds"
    )
    served_versions: str = _setting("v1,v2", "the API versions served, comma-separated; others answer 404")

    def __post_init__(self) -> None:
        problems = [*self._share_problems(), *self._amount_problems()]
        if problems:
            raise ValueError("invalid tengr emulator settings: " + "; ".join(problems))

    def _share_problems(self) -> list[str]:
        shares = {
            "throttle_rate": self.throttle_rate,
            "error_rate": self.error_rate,
            "gateway_timeout_rate": self.gateway_timeout_rate,
            "latency_rate": self.latency_rate,
            "drop_rate": self.drop_rate,
            "failure_rate": self.failure_rate,
            "cancel_rate": self.cancel_rate,
            "file_break_rate": self.file_break_rate,
            "file_not_image_rate": self.file_not_image_rate,
        }
        problems = [
            f"{name}: must be between 0 and 1, got {value}"
            for name, value in shares.items()
            if value is not None and not 0 <= value <= 1
        ]
        if self.failure_rate + self.cancel_rate > 1:
            problems.append("failure_rate + cancel_rate: must not exceed 1")
        if self.file_break_rate + self.file_not_image_rate > 1:
            problems.append("file_break_rate + file_not_image_rate: must not exceed 1")
        return problems

    def _amount_problems(self) -> list[str]:
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port: must be between 0 and 65535, got {self.port}")
        if self.api_key is not None and not self.api_key.strip():
            problems.append("api_key: must not be empty (use None to accept any key)")
        for name in ("processing_seconds", "latency", "list_staleness"):
            if getattr(self, name) < 0:
                problems.append(f"{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("retention_seconds", "url_ttl_seconds"):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be > 0, got {getattr(self, name)}")
        if self.rate_limit is not None and self.rate_limit < 0:
            problems.append(f"rate_limit: must be >= 0, got {self.rate_limit}")
        if self.results_per_artwork < 1:
            problems.append(f"results_per_artwork: must be >= 1, got {self.results_per_artwork}")
        if self.credits is not None and self.credits < 0:
            problems.append(f"credits: must be >= 0, got {self.credits}")
        if self.unknown_status is not None and not self.unknown_status.strip():
            problems.append("unknown_status: must not be empty (use None for the documented statuses)")
        if self.list_order not in LIST_ORDERS:
            problems.append(f"list_order: must be one of {', '.join(LIST_ORDERS)}, got {self.list_order!r}")
        if self.file_padding_bytes < 0:
            problems.append(f"file_padding_bytes: must be >= 0, got {self.file_padding_bytes}")
        return problems + self._contradiction_problems()

    def _contradiction_problems(self) -> list[str]:
        problems = []
        if not 1 <= self.list_limit_max <= LIST_LIMIT_MAX:
            limit = self.list_limit_max
            problems.append(f"list_limit_max: must be between 1 and {LIST_LIMIT_MAX}, got {limit}")
        if not 200 <= self.create_status <= 299:
            problems.append(f"create_status: must be a 2xx status, got {self.create_status}")
        if self.wrong_key_status not in _CLIENT_ERRORS:
            problems.append(f"wrong_key_status: must be a 4xx status, got {self.wrong_key_status}")
        if self.low_image_guidance not in _GUIDANCES:
            *rest, last = _GUIDANCES
            guidances = f"{', '.join(map(str, rest))} or {last}"
            problems.append(f"low_image_guidance: must be {guidances}, got {self.low_image_guidance}")
        if self.past_artworks < 0:
            problems.append(f"past_artworks: must be >= 0, got {self.past_artworks}")
        for name, value, allowed in (
            ("style_dna_v2_answer", self.style_dna_v2_answer, STYLE_DNA_V2_ANSWERS),
            ("retry_after_format", self.retry_after_format, RETRY_AFTER_FORMATS),
        ):
            if value not in allowed:
                problems.append(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
        versions = self.versions
        if not versions or not set(versions) <= set(API_VERSIONS):
            problems.append(
                f"served_versions: must name some of {', '.join(API_VERSIONS)}, got {self.served_versions!r}"
            )
        try:
            self.moved_routes  # noqa: B018 - parsed for its errors
        except ValueError as error:
            problems.append(f"moved_route: {error}")
        return problems

    @property
    def versions(self) -> tuple[str, ...]:
        """The API versions served, from ``served_versions``."""
        return tuple(part.strip() for part in self.served_versions.split(",") if part.strip())

    @property
    def moved_routes(self) -> dict[tuple[str, str], str]:
        """``moved_route`` read: ``{(version, call): path}``.

        :raises ValueError: an entry that is not ``version:call=/path`` of a known version and create call.
        """
        moved: dict[tuple[str, str], str] = {}
        for entry in filter(None, (part.strip() for part in (self.moved_route or "").split(","))):
            where, _, path = entry.partition("=")
            version, _, call = where.partition(":")
            if version not in API_VERSIONS or call not in CREATE_CALLS or not path.startswith("/"):
                raise ValueError(
                    f"expected version:call=/path with a version of {', '.join(API_VERSIONS)} and a call of "
                    f"{', '.join(CREATE_CALLS)}, got {entry!r}"
                )
            moved[(version, call)] = path
        return moved

    @property
    def effective_latency_rate(self) -> float:
        """Share of API requests that are delayed: all of them unless ``latency_rate`` says otherwise."""
        if self.latency <= 0:
            return 0.0
        return 1.0 if self.latency_rate is None else self.latency_rate


def connection_json(base_url: str, api_key: str | None, api_version: str | None = None) -> str:
    """The ``AIRFLOW_CONN_TENGR_DEFAULT`` value that points the provider at an emulator.

    :param base_url: the emulator's URL.
    :param api_key: the key it expects; with ``None`` (any key accepted) the default key is used,
        because the provider refuses a connection without one.
    :param api_version: the connection's ``api_version`` extra (the emulator serves both); ``None``
        leaves it out, which means ``v1``.
    """
    value: dict[str, object] = {
        "conn_type": "tengr",
        "host": base_url,
        "password": api_key or DEFAULT_API_KEY,
    }
    if api_version is not None:
        value["extra"] = {"api_version": api_version}
    return json.dumps(value)
