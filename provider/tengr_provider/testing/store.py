"""The emulator's memory: artworks, style-dna images and credits, and how each looks at a given moment.

Nothing here changes with time on its own: an artwork's status, its results and whether a file still
serves are all computed from its creation time and the clock, the way a client observes them.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tengr_provider.models import ArtworkStatus
from tengr_provider.testing.config import EmulatorConfig
from tengr_provider.testing.pictures import PLAIN, Look, Picture
from tengr_provider.testing.sizes import DEFAULT_SIZE, Size

#: Share of the processing time an artwork spends ``starting`` before it is ``processing``.
STARTING_SHARE = 0.2
#: Where result images are served; they need no auth, like the API's signed CDN URLs.
FILES_PREFIX = "/files/"
#: All results are PNG except style-dna's WebP on request.
RESULT_FORMAT = "png"


class OutOfCreditsError(Exception):
    """The account has no credit left for another create."""


def iso_timestamp(epoch: float) -> str:
    """``2026-05-09T07:35:25.123Z``: the JavaScript ``toISOString`` form the API answers with."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ImageFile:
    """A result image the files route can serve: what to draw and how to encode it.

    :param name: the file name in the URL.
    :param picture: what it shows (its size included).
    :param image_format: ``png`` or ``webp``.
    """

    name: str
    picture: Picture
    image_format: str

    @property
    def size(self) -> Size:
        """Pixel size."""
        return self.picture.size


@dataclass(frozen=True)
class ArtworkRecord:
    """A photo-pilot or upscaling artwork as created; its visible state derives from the clock.

    :param outcome: the final status it will reach (drawn once, at creation).
    :param processing_seconds: time from creation to ``outcome``; 0 for synchronous upscaling.
    :param in_flight_status: reported instead of ``starting``/``processing`` until the end (a status
        the API might add), or ``None``.
    :param result_format: ``png``, or style-dna's requested format.
    :param look: what its results show (drawn from its source, tinted, captioned).
    """

    id: str
    artwork_type: str
    parameters: dict[str, Any]
    created: float
    outcome: ArtworkStatus
    size: Size
    result_count: int
    processing_seconds: float
    in_flight_status: str | None = None
    result_format: str = RESULT_FORMAT
    look: Look = PLAIN

    def status_at(self, now: float) -> ArtworkStatus:
        """``starting`` for the first fifth of the processing time, ``processing`` until it ends."""
        elapsed = now - self.created
        if elapsed >= self.processing_seconds:
            return self.outcome
        if self.in_flight_status is not None:
            return ArtworkStatus(self.in_flight_status)
        if elapsed < STARTING_SHARE * self.processing_seconds:
            return ArtworkStatus.STARTING
        return ArtworkStatus.PROCESSING

    def result_files(self) -> list[ImageFile]:
        """The files a successful artwork serves, ``<id>_<n>.png`` with n from 0."""
        names = [f"{self.id}_{index}.{self.result_format}" for index in range(self.result_count)]
        return [
            ImageFile(name, self.look.picture(self.size, name, self.id), self.result_format) for name in names
        ]

    def to_api(self, now: float, base_url: str) -> dict[str, Any]:
        """The artwork's JSON as ``GET /v1/artworks/{id}`` answers at ``now``.

        :param base_url: scheme and host the client used, so result URLs are reachable from it.
        """
        status = self.status_at(now)
        results = [base_url + FILES_PREFIX + file.name for file in self.result_files()]
        return {
            "id": self.id,
            "artworkType": self.artwork_type,
            "parameters": self.parameters,
            "duration": round(self.processing_seconds, 3) if status.is_terminal else 0,
            "results": results if status.is_success else [],
            "status": status.value,
            "createdAt": iso_timestamp(self.created),
        }


@dataclass(frozen=True)
class StyleDnaRecord:
    """A style-dna image: ready at once, served until ``expires``."""

    id: str
    created: float
    expires: float
    file: ImageFile

    def to_api(self, base_url: str) -> dict[str, Any]:
        """The JSON of ``POST /v1/style-dna/generate``'s answer."""
        return {
            "imageUrl": base_url + FILES_PREFIX + self.file.name,
            "expiresAt": iso_timestamp(self.expires),
            "creditsUsed": 1,
        }


class ArtworkStore:
    """Thread-safe storage of everything created, with the API's retention and URL expiry applied.

    :param config: retention, URL lifetime and credits.
    :param clock: wall-clock time source (epoch seconds); ``createdAt`` and ages are computed from it.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._artworks: dict[str, ArtworkRecord] = {}
        self._style_dna: dict[str, StyleDnaRecord] = {}
        self._credits = config.credits
        self._list_rng = random.Random(config.seed)
        # The account's history (``past_artworks``): one finished artwork a day back, oldest first.
        now = self.clock()
        for days in range(config.past_artworks, 0, -1):
            self.add_artwork(
                "photo_pilot",
                {"prompt": f"an artwork of {days} days ago"},
                ArtworkStatus.SUCCEEDED,
                DEFAULT_SIZE,
                processing_seconds=1.0,
                created=now - days * 86400,
            )

    @property
    def credits_remaining(self) -> int | None:
        """Credits left, ``None`` when unlimited."""
        return self._credits

    def spend_credit(self) -> None:
        """Take one credit for a create.

        :raises OutOfCreditsError: when none is left.
        """
        with self._lock:
            if self._credits is None:
                return
            if self._credits <= 0:
                raise OutOfCreditsError
            self._credits -= 1

    def add_artwork(
        self,
        artwork_type: str,
        parameters: dict[str, Any],
        outcome: ArtworkStatus,
        size: Size,
        processing_seconds: float,
        result_format: str = RESULT_FORMAT,
        created: float | None = None,
        look: Look = PLAIN,
    ) -> ArtworkRecord:
        """Create an artwork that reaches ``outcome`` after ``processing_seconds``.

        :param created: its creation time, now unless given (the account's history is older).
        """
        record = ArtworkRecord(
            id=str(uuid.uuid4()),
            artwork_type=artwork_type,
            parameters=parameters,
            created=self.clock() if created is None else created,
            outcome=outcome,
            size=size,
            result_count=self._config.results_per_artwork if artwork_type == "photo_pilot" else 1,
            processing_seconds=processing_seconds,
            in_flight_status=self._config.unknown_status if processing_seconds > 0 else None,
            result_format=result_format,
            look=look,
        )
        with self._lock:
            self._forget_old(record.created)
            self._artworks[record.id] = record
        return record

    def add_style_dna(self, size: Size, image_format: str, look: Look = PLAIN) -> StyleDnaRecord:
        """Create a style-dna image whose URL serves for ``url_ttl_seconds``."""
        image_id = uuid.uuid4().hex
        now = self.clock()
        name = f"{image_id}.{image_format}"
        file = ImageFile(name, look.picture(size, name, image_id), image_format)
        record = StyleDnaRecord(image_id, now, now + self._config.url_ttl_seconds, file)
        with self._lock:
            self._forget_old(now)
            self._style_dna[image_id] = record
        return record

    def _forget_old(self, now: float) -> None:
        """Drop what can no longer be seen, oldest first, so a long-running emulator stays small."""
        cutoff = now - self._config.retention_seconds
        while self._artworks:
            oldest = next(iter(self._artworks.values()))
            if oldest.created >= cutoff:
                break
            del self._artworks[oldest.id]
        while self._style_dna:
            image = next(iter(self._style_dna.values()))
            if image.expires > now:
                break
            del self._style_dna[image.id]

    def artwork(self, artwork_id: str) -> ArtworkRecord | None:
        """The artwork, or ``None`` if unknown or past retention (the API answers 404 for both)."""
        record = self._artworks.get(artwork_id)
        if record is None or self.clock() - record.created > self._config.retention_seconds:
            return None
        return record

    def page(self, offset: int, limit: int) -> list[ArtworkRecord]:
        """Artworks within retention in the configured ``list_order`` (newest first, as the API),
        as ``GET /v1/artworks`` pages them."""
        cutoff = self.clock() - self._config.retention_seconds
        order = self._config.list_order
        with self._lock:
            if order == "shuffled":
                records = [record for record in self._artworks.values() if record.created >= cutoff]
                self._list_rng.shuffle(records)
                return records[offset : offset + limit]
            ordered = self._artworks.values() if order == "oldest" else reversed(self._artworks.values())
            visible = (record for record in ordered if record.created >= cutoff)
            return list(itertools.islice(visible, offset, offset + limit))

    def image_file(self, name: str) -> ImageFile | None:
        """The file behind a result URL if it serves now: its artwork succeeded and is within retention,
        or its style-dna image has not expired."""
        stem = name.rpartition(".")[0]
        artwork_id, underscore, _ = stem.rpartition("_")
        if underscore:
            record = self.artwork(artwork_id)
            if record is None or not record.status_at(self.clock()).is_success:
                return None
            return next((file for file in record.result_files() if file.name == name), None)
        image = self._style_dna.get(stem)
        if image is None or image.file.name != name or self.clock() >= image.expires:
            return None
        return image.file
