"""The emulator's settings, checked once so that a typo fails at start-up and not mid-test."""

from __future__ import annotations

import json
from dataclasses import dataclass

#: The key the emulator expects unless told otherwise; it is a public test value, not a secret.
DEFAULT_API_KEY = "tengr-emulator-key"
#: How long the real API keeps artworks (8 days).
DEFAULT_RETENTION_SECONDS = 8 * 24 * 3600.0
#: How long a style-dna image URL serves before it expires.
DEFAULT_URL_TTL_SECONDS = 3600.0


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour; see ``docs/testing-with-the-emulator.md``.

    :param host: interface to bind; loopback by default so nothing outside the machine can reach it.
    :param port: port to bind; 0 lets the OS pick a free one (read it back from ``TengrEmulator.url``).
    :param api_key: the only Bearer token accepted; ``None`` accepts any non-empty token.
    :param processing_seconds: how long a photo-pilot artwork takes from ``starting`` to its final
        status; the first fifth of that time it is ``starting``, then ``processing``.
    :param retention_seconds: age after which artworks and their files answer 404 (the API keeps 8 days).
    :param url_ttl_seconds: lifetime of a style-dna image URL (``expiresAt``).
    :param results_per_artwork: result images per successful photo-pilot artwork.
    :param credits: credits available; each create spends one. ``None`` means unlimited.
    :param seed: seeds every random choice (faults and outcomes), so a sequential run replays exactly.
    :param rate_limit: requests per second over all API routes (token bucket, burst of one second's
        worth); ``None`` or 0 turns rate limiting off.
    :param rate_limit_retry_after: send ``Retry-After`` with a 429; the API does not promise it, so a
        client must cope without.
    :param error_rate: share of API requests answered 500/502/503 before any work is done.
    :param gateway_timeout_rate: share of successful style-dna/upscaling calls answered 504 *after*
        the work is done (the image exists and the credit is spent: the duplicate-credit risk).
    :param latency: seconds added to a delayed API request.
    :param latency_rate: share of API requests delayed by ``latency``; defaults to all of them.
    :param drop_rate: share of API requests whose connection is closed without any answer.
    :param failure_rate: share of photo-pilot and upscaling artworks that end ``failed``.
    :param cancel_rate: share of photo-pilot artworks that end ``canceled``.
    :param file_break_rate: share of result-image downloads whose connection is closed halfway through
        the body (the headers promised the whole image).
    :param file_not_image_rate: share of result-image downloads answered 200 with an HTML error page,
        as a CDN or captive portal does.
    :param file_padding_bytes: bytes added to every PNG result inside a private ancillary chunk, so the
        image stays decodable but is as large as a test of a size cap needs.
    :param file_chunked: send result images with ``Transfer-Encoding: chunked`` and no
        ``Content-Length``, so a client learns their size only by reading them.
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = DEFAULT_API_KEY
    processing_seconds: float = 2.0
    retention_seconds: float = DEFAULT_RETENTION_SECONDS
    url_ttl_seconds: float = DEFAULT_URL_TTL_SECONDS
    results_per_artwork: int = 1
    credits: int | None = None
    seed: int = 0
    rate_limit: float | None = None
    rate_limit_retry_after: bool = True
    error_rate: float = 0.0
    gateway_timeout_rate: float = 0.0
    latency: float = 0.0
    latency_rate: float | None = None
    drop_rate: float = 0.0
    failure_rate: float = 0.0
    cancel_rate: float = 0.0
    file_break_rate: float = 0.0
    file_not_image_rate: float = 0.0
    file_padding_bytes: int = 0
    file_chunked: bool = False

    def __post_init__(self) -> None:
        problems = [*self._share_problems(), *self._amount_problems()]
        if problems:
            raise ValueError("invalid tengr emulator settings: " + "; ".join(problems))

    def _share_problems(self) -> list[str]:
        shares = {
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
        for name in ("processing_seconds", "latency"):
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
        if self.file_padding_bytes < 0:
            problems.append(f"file_padding_bytes: must be >= 0, got {self.file_padding_bytes}")
        return problems

    @property
    def effective_latency_rate(self) -> float:
        """Share of API requests that are delayed: all of them unless ``latency_rate`` says otherwise."""
        if self.latency <= 0:
            return 0.0
        return 1.0 if self.latency_rate is None else self.latency_rate


def connection_json(base_url: str, api_key: str | None) -> str:
    """The ``AIRFLOW_CONN_TENGR_DEFAULT`` value that points the provider at an emulator.

    :param base_url: the emulator's URL.
    :param api_key: the key it expects; with ``None`` (any key accepted) the default key is used,
        because the provider refuses a connection without one.
    """
    return json.dumps({"conn_type": "tengr", "host": base_url, "password": api_key or DEFAULT_API_KEY})
