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
:func:`~tengr_provider.triggers.deferral.earliest_requeue`): Airflow 3.0-3.3.2's scheduler fails a task
queued again before it read the executor's report of the try that deferred.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from airflow.triggers.base import BaseTrigger, TriggerEvent
from pydantic import BaseModel, ValidationError

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.hooks._wait import DEFAULT_POLL_INTERVAL, ArtworkWait
from tengr_provider.hooks.tengr import TengrAsyncHook
from tengr_provider.models import Artwork
from tengr_provider.triggers._poller import PollerKey, poller_for
from tengr_provider.version_compat import AirflowException

#: Seconds a batch keeps waiting for its stragglers once half of its artworks ended.
STRAGGLER_GRACE = 60.0


class BatchWaitEvent(BaseModel):
    """The one event of a :class:`TengrBatchTrigger`, and its parser.

    :param status: ``ready`` (enough artworks ended), ``timeout`` (the batch's deadline passed) or
        ``error`` (the wait itself failed; the task reads the artworks again and decides).
    :param ended: artworks of the wait that ended.
    :param waiting: artworks the wait started with.
    """

    status: Literal["ready", "timeout", "error"]
    ended: int = 0
    waiting: int = 0
    message: str = ""

    @classmethod
    def parse(cls, event: object) -> BatchWaitEvent:
        """Read what ``execute_complete`` was given; anything else is an error naming it."""
        try:
            return cls.model_validate(event)
        except ValidationError:
            raise AirflowException(f"unexpected event from TengrBatchTrigger: {event!r}") from None


def enough_ended(ended: int, waiting: int, since_half: float | None, now: float) -> bool:
    """Whether a batch waiting for ``waiting`` artworks should resume with ``ended`` of them ended.

    :param since_half: when half of them had ended (``None`` while fewer have).
    """
    if ended >= waiting:
        return True
    return since_half is not None and now - since_half >= STRAGGLER_GRACE


class TengrBatchTrigger(BaseTrigger):
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
        super().__init__()  # type: ignore[no-untyped-call]
        self.artwork_ids = list(artwork_ids)
        self.tengr_conn_id = tengr_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time if end_time is not None else time.time() + 3600
        self.not_before = not_before

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and keyword arguments: plain values, no secrets."""
        kwargs: dict[str, Any] = {
            "artwork_ids": self.artwork_ids,
            "tengr_conn_id": self.tengr_conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
        }
        if self.not_before is not None:
            kwargs["not_before"] = self.not_before
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _hook(self) -> TengrAsyncHook:
        return TengrAsyncHook(self.tengr_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait, then hold the event until ``not_before``; any exception becomes an ``error`` event."""
        try:
            event = await self._wait()
        except Exception as exc:
            event = BatchWaitEvent(
                status="error",
                waiting=len(self.artwork_ids),
                message=f"waiting for {len(self.artwork_ids)} tengr.ai artworks failed: {exc}",
            )
        if self.not_before is not None and self.not_before > time.time():
            await asyncio.sleep(self.not_before - time.time())
        yield TriggerEvent(event.model_dump())  # type: ignore[no-untyped-call]

    async def _wait(self) -> BatchWaitEvent:
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
                wait = ArtworkWait(
                    artwork_id,
                    deadline=self.end_time,
                    poll_interval=self.poll_interval,
                    clock=time.time,
                    logger=self.log,
                )
                future = poller.register(wait)
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
