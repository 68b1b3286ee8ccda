"""What the emulator saw: requests per route and status, and every artwork or image it created.

Tests assert on these numbers ("the retry created exactly one artwork", "three 429s were answered"),
so faulted requests are counted too, and a dropped connection counts under the status ``dropped``.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: The status recorded for a request whose connection was closed without an answer.
DROPPED = "dropped"
#: The status recorded for an answer whose body was cut off halfway (the connection then closed).
BROKEN = "broken"


@dataclass(frozen=True)
class CreatedArtwork:
    """One created artwork (``photo_pilot``, ``upscaling``) or style-dna image (``style_dna``).

    :param id: the artwork id, or for style-dna (which has no id in the API) the image's file id.
    :param artwork_type: ``photo_pilot``, ``upscaling`` or ``style_dna``.
    :param created_at: creation time, ISO-8601 UTC as the API writes it.
    """

    id: str
    artwork_type: str
    created_at: str

    def to_api(self) -> dict[str, str]:
        """The record as ``/_emulator/stats`` shows it (camelCase, like the API)."""
        return {"id": self.id, "artworkType": self.artwork_type, "createdAt": self.created_at}


@dataclass(frozen=True)
class EmulatorStats:
    """A snapshot of the counters, the same data ``GET /_emulator/stats`` serves.

    :param requests: ``{"POST /v1/artworks/photo-pilot": {"202": 3, "429": 1}}``; ids in paths are
        collapsed (``GET /v1/artworks/{id}``) so a route is one key.
    :param artworks: every creation in order, including those answered 504.
    :param credits_remaining: credits left, ``None`` when unlimited.
    """

    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    artworks: list[CreatedArtwork] = field(default_factory=list)
    credits_remaining: int | None = None

    @property
    def artworks_created(self) -> int:
        """How many artworks and style-dna images were created."""
        return len(self.artworks)

    @property
    def artworks_created_by_type(self) -> dict[str, int]:
        """Creations per type (``photo_pilot``, ``upscaling``, ``style_dna``)."""
        return dict(Counter(artwork.artwork_type for artwork in self.artworks))

    @property
    def requests_total(self) -> int:
        """How many requests were counted, over all routes and statuses."""
        return sum(sum(by_status.values()) for by_status in self.requests.values())

    def count(self, route: str, status: int | str | None = None) -> int:
        """Requests to ``route`` (e.g. ``"GET /v1/artworks/{id}"``), all of them or with one status.

        :param route: ``"<METHOD> <path template>"``, as the keys of :attr:`requests`.
        :param status: an HTTP status (``429`` or ``"429"``), ``"dropped"``, or ``None`` for all.
        """
        by_status = self.requests.get(route, {})
        if status is None:
            return sum(by_status.values())
        return by_status.get(str(status), 0)

    def to_api(self) -> dict[str, Any]:
        """The JSON body of ``GET /_emulator/stats``."""
        return {
            "requests": self.requests,
            "requestsTotal": self.requests_total,
            "artworksCreated": self.artworks_created,
            "artworksCreatedByType": self.artworks_created_by_type,
            "artworks": [artwork.to_api() for artwork in self.artworks],
            "creditsRemaining": self.credits_remaining,
        }


class StatsRecorder:
    """Thread-safe counters behind :class:`EmulatorStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, Counter[str]] = {}
        self._artworks: list[CreatedArtwork] = []

    def request(self, route: str, status: int | str) -> None:
        """Count one answered (or dropped) request."""
        with self._lock:
            self._requests.setdefault(route, Counter())[str(status)] += 1

    def created(self, artwork_id: str, artwork_type: str, created_at: str) -> None:
        """Record one creation."""
        with self._lock:
            self._artworks.append(CreatedArtwork(artwork_id, artwork_type, created_at))

    def snapshot(self, credits_remaining: int | None) -> EmulatorStats:
        """A consistent copy of the counters, safe to keep while the server goes on counting."""
        with self._lock:
            requests = {route: dict(by_status) for route, by_status in self._requests.items()}
            return EmulatorStats(requests, list(self._artworks), credits_remaining)

    def reset(self) -> None:
        """Forget every count and creation record (the artworks themselves stay)."""
        with self._lock:
            self._requests.clear()
            self._artworks.clear()
