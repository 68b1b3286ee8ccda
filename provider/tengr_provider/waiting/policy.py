"""One wait for one artwork, the same whether a worker polls or the triggerer does.

:meth:`TengrHook.wait_for_artwork <tengr_provider.hooks.tengr.TengrHook.wait_for_artwork>` (poll mode),
the sensor's poke and :class:`~tengr_provider.triggers.artwork.TengrArtworkTrigger` (deferrable mode)
all follow this policy, so the same outage ends the same way whichever mode the user picked:

- a read that still fails with a 429, a 5xx or no answer after the hook's own retries does **not**
  end the wait: it is logged and the next read comes one poll interval later, until the deadline;
- any other failure (400, 401, 403, 404, an answer we cannot read) ends the wait at once;
- an artwork in a final status ends the wait; the caller decides what success and failure mean;
- a status the provider does not know (one the API added) counts as still in flight, logged once per
  artwork and value, so the wait goes on until a known final status or the deadline;
- the deadline passing ends the wait with the last status seen, and no sleep runs past it.
"""

from __future__ import annotations

from collections.abc import Callable

from tengr_provider._logging import WarningLogger
from tengr_provider.exceptions import (
    TengrConnectionError,
    TengrRateLimitError,
    TengrServerError,
)
from tengr_provider.models import Artwork

__all__ = [
    "DEFAULT_BATCH_TIMEOUT",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "HOOK_POLL_INTERVAL",
    "ArtworkWait",
    "note_unknown_status",
]

#: Seconds between two reads of an artwork waited for by a task (operators, sensor's trigger), unless it
#: says otherwise.
DEFAULT_POLL_INTERVAL = 10
#: The same for a direct caller of the hook's waits (``TengrHook.wait_for_artwork``), as the interface
#: states: code that calls the hook itself usually waits for one artwork and wants it soon.
HOOK_POLL_INTERVAL = 5
#: Seconds of waiting before a wait gives up, unless the caller says otherwise.
DEFAULT_WAIT_TIMEOUT = 3600
#: Seconds one try of a batch may take (creating, waiting for and storing all its artworks), unless
#: it says otherwise: a day, since a catalog at a low rate limit takes hours.
DEFAULT_BATCH_TIMEOUT = 24 * 3600


def note_unknown_status(artwork: Artwork, seen: set[tuple[str, str]], logger: WarningLogger) -> None:
    """Log a status the provider does not know, once per artwork and value (``seen`` remembers)."""
    status = artwork.status
    if status.is_known or (artwork.id, status.value) in seen:
        return
    seen.add((artwork.id, status.value))
    logger.warning(
        "tengr.ai artwork %s reports status %r, which this provider does not know; treating it as "
        "still in flight until a known final status or the deadline",
        artwork.id,
        status.value,
    )


class ArtworkWait:
    """The state of one wait: its deadline and the last artwork read.

    The caller reads the artwork (sync or async) and reports each outcome; only the transport differs.

    :param artwork_id: the artwork waited for, for messages.
    :param deadline: when the wait ends, on ``clock``'s scale.
    :param poll_interval: seconds between reads.
    :param clock: the clock ``deadline`` is on (monotonic on a worker, epoch in the triggerer, whose
        deadline must survive a restart).
    :param logger: where transient failures are reported.
    """

    def __init__(
        self,
        artwork_id: str,
        *,
        deadline: float,
        poll_interval: float,
        clock: Callable[[], float],
        logger: WarningLogger,
    ) -> None:
        self.artwork_id = artwork_id
        self.deadline = deadline
        self.poll_interval = poll_interval
        self._clock = clock
        self._log = logger
        self.last: Artwork | None = None
        self._unknown_seen: set[tuple[str, str]] = set()

    @property
    def last_status(self) -> str:
        """The last status read, or ``unknown`` when no read succeeded yet."""
        return self.last.status.value if self.last is not None else "unknown"

    def ends_with(self, artwork: Artwork) -> bool:
        """Record a successful read of the artwork; True when it is final, so the wait is over."""
        self.last = artwork
        note_unknown_status(artwork, self._unknown_seen, self._log)
        return artwork.status.is_terminal

    def read_failed(self, exc: TengrConnectionError | TengrRateLimitError | TengrServerError) -> None:
        """Record a transient failure (one of ``TRANSIENT_ERRORS``); the wait goes on."""
        self._log.warning("tengr.ai artwork %s: %s; will try again until the deadline", self.artwork_id, exc)

    def pause(self, factor: float = 1.0) -> float | None:
        """Seconds to sleep before the next read (``factor`` spreads polls), or None past the deadline."""
        remaining = self.deadline - self._clock()
        if remaining <= 0:
            return None
        return min(self.poll_interval * factor, remaining)
