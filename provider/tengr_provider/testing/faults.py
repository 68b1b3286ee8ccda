"""Seeded fault decisions: which request is slowed, dropped, throttled or failed, and how artworks end.

Every kind of decision draws from its own random stream, seeded from the one ``seed``: a sequential
client that sends the same requests sees the same faults on every run, and turning one fault on does
not shift the choices of another.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import Literal

from tengr_provider.models import ArtworkStatus
from tengr_provider.testing.config import EmulatorConfig

#: The server errors a failing API request answers with (504 is reserved for the synchronous routes).
SERVER_ERROR_STATUSES = (500, 502, 503)
#: What can go wrong with a result-image download: cut off halfway, or an HTML page instead.
FileFault = Literal["break", "not_image"]


class TokenBucket:
    """A rate limiter that allows short bursts, like most API gateways.

    :param rate: tokens added per second; the bucket holds one second's worth (at least one token).
    :param clock: monotonic time source; injectable so tests can drive it.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> float | None:
        """Spend a token; ``None`` if one was available, else the seconds until the next one."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / self._rate


class FaultPlan:
    """Decides, request by request, which configured fault happens.

    :param config: the shares and rates to apply, and the seed.
    :param clock: monotonic time source for the rate limiter.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._streams: dict[str, random.Random] = {}
        self._bucket = TokenBucket(config.rate_limit, clock) if config.rate_limit else None

    def _chance(self, stream: str, share: float) -> bool:
        """One seeded draw from ``stream``; a share of 0 draws nothing, so it cannot shift the stream."""
        if share <= 0:
            return False
        with self._lock:
            rng = self._streams.get(stream)
            if rng is None:
                rng = self._streams[stream] = random.Random(f"{self._config.seed}:{stream}")
            return rng.random() < share

    def delay(self) -> float:
        """Seconds to hold this API request before answering (0 for most)."""
        config = self._config
        return config.latency if self._chance("latency", config.effective_latency_rate) else 0.0

    def drop(self) -> bool:
        """Whether to close this request's connection without an answer."""
        return self._chance("drop", self._config.drop_rate)

    def throttle(self) -> int | None:
        """``None`` if the request may pass, else the whole seconds to wait (>= 1) before a retry.

        The rate limit refuses by time (a token bucket); ``throttle_rate`` refuses a seeded share of the
        requests that passed it, whatever their rate, so a test sees 429s without having to be fast.
        """
        if self._bucket is not None:
            wait = self._bucket.take()
            if wait is not None:
                return max(1, math.ceil(wait))
        return 1 if self._chance("throttle", self._config.throttle_rate) else None

    def server_error(self) -> int | None:
        """A 5xx status to answer instead of doing the work, or ``None``."""
        if not self._chance("error", self._config.error_rate):
            return None
        with self._lock:
            return self._streams["error"].choice(SERVER_ERROR_STATUSES)

    def gateway_timeout(self) -> bool:
        """Whether a finished synchronous call is answered 504 as if the gateway gave up waiting."""
        return self._chance("gateway", self._config.gateway_timeout_rate)

    def photo_pilot_outcome(self) -> ArtworkStatus:
        """The final status of a new photo-pilot artwork: one draw split into failed/canceled/succeeded."""
        config = self._config
        if not self._chance("outcome", config.failure_rate + config.cancel_rate):
            return ArtworkStatus.SUCCEEDED
        if config.cancel_rate == 0:
            return ArtworkStatus.FAILED
        if config.failure_rate == 0:
            return ArtworkStatus.CANCELED
        share_failed = config.failure_rate / (config.failure_rate + config.cancel_rate)
        return ArtworkStatus.FAILED if self._chance("outcome-kind", share_failed) else ArtworkStatus.CANCELED

    def file_fault(self) -> FileFault | None:
        """What goes wrong with this result-image download, if anything: one draw per download."""
        config = self._config
        if not self._chance("file", config.file_break_rate + config.file_not_image_rate):
            return None
        if config.file_not_image_rate == 0:
            return "break"
        if config.file_break_rate == 0:
            return "not_image"
        share_break = config.file_break_rate / (config.file_break_rate + config.file_not_image_rate)
        return "break" if self._chance("file-kind", share_break) else "not_image"

    def upscaling_outcome(self) -> ArtworkStatus:
        """The status of a new upscaling artwork: ``done``, or ``failed`` for the failure share."""
        failed = self._chance("upscaling-outcome", self._config.failure_rate)
        return ArtworkStatus.FAILED if failed else ArtworkStatus.DONE
