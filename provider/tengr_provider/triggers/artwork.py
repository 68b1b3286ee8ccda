"""The trigger that waits for an artwork in the triggerer, so waiting costs no worker slot."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.exceptions import TengrConnectionError, TengrRateLimitError, TengrServerError
from tengr_provider.hooks.tengr import TengrAsyncHook
from tengr_provider.models import Artwork, ArtworkStatus

#: What each final status means for the waiting task: one table, so the events cannot drift.
_OUTCOME: dict[ArtworkStatus, str] = {
    ArtworkStatus.SUCCEEDED: "success",
    ArtworkStatus.DONE: "success",
    ArtworkStatus.FAILED: "error",
    ArtworkStatus.CANCELED: "error",
}
#: Each wait is the poll interval times a random factor from this range, so that the thousands of
#: triggers a mapped task defers at once do not poll in lockstep bursts.
_POLL_SPREAD = (0.9, 1.1)
#: Failures that outlast the hook's own retries but may still pass: keep polling until the deadline.
_TRANSIENT = (TengrRateLimitError, TengrServerError, TengrConnectionError)


class TengrArtworkTrigger(BaseTrigger):
    """Poll ``GET /v1/artworks/{id}`` until the artwork ends, then yield exactly one event.

    The event is ``{"status": "success" | "error" | "timeout", "artwork": {...}, "message": str}``,
    where ``artwork`` is the API's JSON (at least its ``id``). The trigger only reads: it never creates
    anything, so a triggerer restart that runs it twice cannot spend credits.

    :param artwork_id: the artwork to wait for.
    :param tengr_conn_id: the connection to read it with (the key itself is never serialized).
    :param poll_interval: seconds between reads.
    :param end_time: absolute deadline (epoch seconds), so a triggerer restart does not restart the clock.
    """

    def __init__(
        self,
        artwork_id: str,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 10,
        end_time: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.artwork_id = artwork_id
        self.tengr_conn_id = tengr_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time if end_time is not None else time.time() + 3600

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and keyword arguments: plain values, no secrets."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "artwork_id": self.artwork_id,
                "tengr_conn_id": self.tengr_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _hook(self) -> TengrAsyncHook:
        return TengrAsyncHook(self.tengr_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the artwork ends or the deadline passes; any exception becomes an error event."""
        try:
            event = await self._wait()
        except Exception as exc:
            event = {
                "status": "error",
                "artwork": {"id": self.artwork_id},
                "message": f"waiting for tengr.ai artwork {self.artwork_id} failed: {exc}",
            }
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]

    async def _wait(self) -> dict[str, Any]:
        async with self._hook() as hook:
            last: dict[str, Any] = {"id": self.artwork_id}
            last_status = "unknown"
            while True:
                try:
                    artwork = await hook.get_artwork(self.artwork_id)
                except _TRANSIENT as exc:
                    self.log.warning("tengr.ai artwork %s: %s; will try again", self.artwork_id, exc)
                else:
                    if artwork.status.is_terminal:
                        return self._final_event(artwork)
                    last, last_status = artwork.to_api(), artwork.status.value
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    return {
                        "status": "timeout",
                        "artwork": last,
                        "message": f"tengr.ai artwork {self.artwork_id} still {last_status!r} at the "
                        "deadline; it may still finish: wait on it with TengrArtworkSensor",
                    }
                await asyncio.sleep(min(self.poll_interval * random.uniform(*_POLL_SPREAD), remaining))

    @staticmethod
    def _final_event(artwork: Artwork) -> dict[str, Any]:
        return {
            "status": _OUTCOME[artwork.status],
            "artwork": artwork.to_api(),
            "message": f"tengr.ai artwork {artwork.id} ended with status {artwork.status.value!r}",
        }
