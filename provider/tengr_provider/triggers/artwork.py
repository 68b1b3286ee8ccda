"""The trigger that waits for an artwork in the triggerer, so waiting costs no worker slot.

It also defines the event it yields, :class:`ArtworkWaitEvent`: the operators and the sensor read the
event with the same parser, so what the trigger says and what they understand cannot drift.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, ClassVar, Literal

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.exceptions import TRANSIENT_ERRORS, TengrArtworkFailedError
from tengr_provider.models import Artwork, ArtworkStatus
from tengr_provider.triggers._base import TengrWaitTrigger, WaitEvent
from tengr_provider.triggers._poller import POLL_SPREAD, PollerKey, poller_for
from tengr_provider.version_compat import AirflowException
from tengr_provider.waiting.policy import DEFAULT_POLL_INTERVAL, ArtworkWait

#: What each final status means for the waiting task: one table, so the events cannot drift.
_OUTCOME: dict[ArtworkStatus, Literal["success", "error"]] = {
    ArtworkStatus.SUCCEEDED: "success",
    ArtworkStatus.DONE: "success",
    ArtworkStatus.FAILED: "error",
    ArtworkStatus.CANCELED: "error",
}


class ArtworkWaitEvent(WaitEvent):
    """The one event a :class:`TengrArtworkTrigger` yields, and its parser.

    :param status: ``success`` (the artwork succeeded or is done), ``error`` (it failed or was
        canceled, or the wait itself failed) or ``timeout`` (the deadline passed first).
    :param artwork: the API's JSON of the artwork; only ``{"id": ...}`` when no read succeeded.
    :param message: a sentence naming the artwork, for the task log.
    """

    trigger_name: ClassVar[str] = "TengrArtworkTrigger"
    status: Literal["success", "error", "timeout"]
    artwork: dict[str, Any] = {}
    message: str = ""

    @classmethod
    def finished(cls, artwork: Artwork) -> ArtworkWaitEvent:
        """The event of an artwork in a final status."""
        return cls(
            status=_OUTCOME[artwork.status],
            artwork=artwork.to_api(),
            message=f"tengr.ai artwork {artwork.id} ended with status {artwork.status.value!r}",
        )

    @classmethod
    def timed_out(cls, wait: ArtworkWait) -> ArtworkWaitEvent:
        """The event of a wait whose deadline passed, with the last artwork read."""
        return cls(
            status="timeout",
            artwork=wait.last.to_api() if wait.last is not None else {"id": wait.artwork_id},
            message=f"tengr.ai artwork {wait.artwork_id} still {wait.last_status!r} at the deadline; it "
            "may still finish: wait on it with TengrArtworkSensor",
        )

    @classmethod
    def failed(cls, artwork_id: str, exc: Exception) -> ArtworkWaitEvent:
        """The event of a wait that failed (an exception no retry or poll could get past)."""
        return cls(
            status="error",
            artwork={"id": artwork_id},
            message=f"waiting for tengr.ai artwork {artwork_id} failed: {exc}",
        )

    @property
    def artwork_id(self) -> str:
        """The id the event is about."""
        return str(self.artwork.get("id", "unknown"))

    @property
    def last_status(self) -> str:
        """The artwork's status as last read, or ``unknown``."""
        return str(self.artwork.get("status", "unknown"))

    def final_artwork(self) -> Artwork:
        """The artwork of a ``success`` event.

        :raises TengrArtworkFailedError: the artwork ended ``failed`` or ``canceled``.
        :raises AirflowException: the wait failed or timed out before the artwork ended.
        """
        if self.status != "timeout" and "status" in self.artwork:
            artwork = Artwork.model_validate(self.artwork)
            if artwork.status.is_terminal:
                if not artwork.status.is_success:
                    raise TengrArtworkFailedError(artwork.id, artwork.status.value)
                return artwork
        raise AirflowException(self.message or f"waiting for tengr.ai artwork {self.artwork_id} failed")


class TengrArtworkTrigger(TengrWaitTrigger):
    """Wait until the artwork ends, then yield exactly one event.

    By default the wait joins the event loop's shared status poller for the connection
    (:mod:`tengr_provider.triggers._poller`), which reads pages of the artworks list for every
    waiting trigger at once and reads an artwork by id only when the list did not show it; with
    ``coalesce=False`` the trigger reads its artwork by id itself (``api_paths`` ``artwork``).

    The event is ``{"status": "success" | "error" | "timeout", "artwork": {...}, "message": str}``,
    where ``artwork`` is the API's JSON (at least its ``id``). The trigger only reads: it never creates
    anything, so a triggerer restart that runs it twice cannot spend credits. The waiting policy is
    :mod:`tengr_provider.waiting.policy`'s, shared with poll mode.

    :param artwork_id: the artwork to wait for.
    :param tengr_conn_id: the connection to read it with (the key itself is never serialized).
    :param poll_interval: seconds between reads.
    :param end_time: absolute deadline (epoch seconds), so a triggerer restart does not restart the clock.
    :param coalesce: share the loop's status poller (default); False polls this artwork on its own
        (serialized only when False).
    :param not_before: epoch seconds before which no event is yielded (see
        :class:`~tengr_provider.triggers._base.TengrWaitTrigger`).
    """

    def __init__(
        self,
        artwork_id: str,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        coalesce: bool = True,
        not_before: float | None = None,
    ) -> None:
        super().__init__(tengr_conn_id, poll_interval, end_time, not_before)
        self.artwork_id = artwork_id
        self.coalesce = coalesce

    def _arguments(self) -> dict[str, Any]:
        return {"artwork_id": self.artwork_id, **({} if self.coalesce else {"coalesce": False})}

    async def _wait_for_event(self) -> ArtworkWaitEvent:
        return await (self._wait_coalesced() if self.coalesce else self._wait())

    def _failure_event(self, exc: Exception) -> ArtworkWaitEvent:
        return ArtworkWaitEvent.failed(self.artwork_id, exc)

    async def _wait_coalesced(self) -> ArtworkWaitEvent:
        """Register with the shared poller and wait for its answer or the deadline.

        The ``finally`` unregisters on every way out, including the ``CancelledError`` of a cleared
        task, a triggerer shutting down or a trigger moved elsewhere, so the poller stops asking for
        artworks nobody waits for (and stops altogether when nobody waits).
        """
        wait = self._new_wait(self.artwork_id)
        poller = poller_for(PollerKey(self.tengr_conn_id), self._hook, self.log)
        done = poller.register(wait)
        try:
            remaining = self.end_time - time.time()
            if remaining > 0:
                await asyncio.wait({done}, timeout=remaining)
            if not done.done():
                return ArtworkWaitEvent.timed_out(wait)
            return ArtworkWaitEvent.finished(done.result())
        finally:
            poller.unregister(done)

    async def _wait(self) -> ArtworkWaitEvent:
        async with self._hook() as hook:
            wait = self._new_wait(self.artwork_id)
            while True:
                try:
                    artwork = await hook.get_artwork(self.artwork_id)
                except TRANSIENT_ERRORS as exc:
                    wait.read_failed(exc)
                else:
                    if wait.ends_with(artwork):
                        return ArtworkWaitEvent.finished(artwork)
                pause = wait.pause(random.uniform(*POLL_SPREAD))
                if pause is None:
                    return ArtworkWaitEvent.timed_out(wait)
                await self._sleep(pause)
