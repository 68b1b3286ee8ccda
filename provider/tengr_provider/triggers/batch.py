"""The trigger a batch waits in: many artworks, one event, when enough of them ended.

A :class:`~tengr_provider.operators.batch.TengrBatchOperator` that cannot submit more (``max_in_flight``
artworks unfinished, or nothing left to submit) hands its unfinished artworks to this trigger and frees
its worker slot. The trigger registers one wait per artwork with the event loop's shared status poller
(:mod:`tengr_provider.triggers._poller`: pages of the artworks list for every waiting trigger at once)
and yields one small event once it is worth resuming: when every artwork ended, or when half of them
ended and :data:`STRAGGLER_GRACE` more seconds passed (one slow artwork must not hold every slot). The
event carries counts, not artworks: the resumed task reads what it needs, so the event stays a few bytes
whatever ``max_in_flight``.

It never yields before ``not_before`` (epoch seconds; the operator sets it with
:func:`~tengr_provider.waiting.requeue.earliest_requeue`): Airflow 3.0-3.3.2's scheduler fails a task
queued again before it read the executor's report of the try that deferred.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any, ClassVar, Literal

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.models import Artwork
from tengr_provider.triggers._base import TengrWaitTrigger, WaitEvent
from tengr_provider.triggers._poller import PollerKey, poller_for
from tengr_provider.waiting.policy import DEFAULT_POLL_INTERVAL

#: Seconds a batch keeps waiting for its stragglers once half of its artworks ended.
STRAGGLER_GRACE = 60.0


class BatchWaitEvent(WaitEvent):
    """The one event of a :class:`TengrBatchTrigger`, and its parser.

    :param status: ``ready`` (enough artworks ended), ``timeout`` (the batch's deadline passed) or
        ``error`` (the wait itself failed; the task reads the artworks again and decides).
    :param ended: artworks of the wait that ended.
    :param waiting: artworks the wait started with.
    """

    trigger_name: ClassVar[str] = "TengrBatchTrigger"
    status: Literal["ready", "timeout", "error"]
    ended: int = 0
    waiting: int = 0
    message: str = ""


def enough_ended(ended: int, waiting: int, since_half: float | None, now: float) -> bool:
    """Whether a batch waiting for ``waiting`` artworks should resume with ``ended`` of them ended.

    :param since_half: when half of them had ended (``None`` while fewer have).
    """
    if ended >= waiting:
        return True
    return since_half is not None and now - since_half >= STRAGGLER_GRACE


class TengrBatchTrigger(TengrWaitTrigger):
    """Wait until enough of a batch's unfinished artworks ended, then yield one :class:`BatchWaitEvent`.

    It only reads: it never creates anything, so a triggerer restart that runs it twice cannot spend
    credits.

    :param artwork_ids: the batch's unfinished artworks.
    :param tengr_conn_id: the connection to read them with (the key itself is never serialized).
    :param poll_interval: seconds between status rounds.
    :param end_time: the batch's deadline (epoch seconds).
    :param not_before: the earliest moment (epoch seconds) the event may be yielded.
    """

    def __init__(
        self,
        artwork_ids: list[str],
        tengr_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__(tengr_conn_id, poll_interval, end_time, not_before)
        self.artwork_ids = list(artwork_ids)

    def _arguments(self) -> dict[str, Any]:
        return {"artwork_ids": self.artwork_ids}

    def _failure_event(self, exc: Exception) -> BatchWaitEvent:
        return BatchWaitEvent(
            status="error",
            waiting=len(self.artwork_ids),
            message=f"waiting for {len(self.artwork_ids)} tengr.ai artworks failed: {exc}",
        )

    async def _wait_for_event(self) -> BatchWaitEvent:
        """Register every artwork with the shared poller; count them as they end.

        The ``finally`` unregisters every wait on every way out, including the ``CancelledError`` of a
        cleared task or a triggerer shutting down, so the poller stops asking for them.
        """
        poller = poller_for(PollerKey(self.tengr_conn_id), self._hook, self.log)
        waiting = len(set(self.artwork_ids))
        futures: list[asyncio.Future[Artwork]] = []
        ended = 0
        since_half: float | None = None
        wake = asyncio.Event()

        def on_end(_: asyncio.Future[Artwork]) -> None:
            nonlocal ended, since_half
            ended += 1
            if since_half is None and ended >= math.ceil(waiting / 2):
                since_half = time.time()
            wake.set()

        try:
            for artwork_id in sorted(set(self.artwork_ids)):
                future = poller.register(self._new_wait(artwork_id))
                future.add_done_callback(on_end)
                futures.append(future)
            while not enough_ended(ended, waiting, since_half, time.time()):
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    return BatchWaitEvent(
                        status="timeout",
                        ended=ended,
                        waiting=waiting,
                        message=f"{waiting - ended} of {waiting} tengr.ai artworks unfinished at the batch's "
                        "deadline",
                    )
                wake.clear()
                timeout = remaining if since_half is None else min(remaining, STRAGGLER_GRACE)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=timeout)
            return BatchWaitEvent(
                status="ready",
                ended=ended,
                waiting=waiting,
                message=f"{ended} of {waiting} tengr.ai artworks ended",
            )
        finally:
            for future in futures:
                future.remove_done_callback(on_end)
                poller.unregister(future)
