"""What the provider's triggers share: one connection, one deadline, one event, held until ``not_before``.

:class:`~tengr_provider.triggers.artwork.TengrArtworkTrigger` (one artwork) and
:class:`~tengr_provider.triggers.batch.TengrBatchTrigger` (a batch's artworks) differ only in what
they wait for. Both serialize the same common arguments, turn any exception into an error event, and
never yield before ``not_before`` (:mod:`tengr_provider.waiting.requeue` says why): stated here once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.hooks.tengr import TengrAsyncHook
from tengr_provider.version_compat import AirflowException, BaseTrigger, TriggerEvent
from tengr_provider.waiting.policy import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, ArtworkWait

_EventT = TypeVar("_EventT", bound="WaitEvent")


class WaitEvent(BaseModel):
    """Base of the triggers' events: what a trigger yields and its task's ``execute_complete`` parses.

    One class per trigger, so what the trigger says and what the task understands cannot drift.
    """

    #: The trigger that yields it, for the message about an event that is not one.
    trigger_name: ClassVar[str]

    @classmethod
    def parse(cls: type[_EventT], event: object) -> _EventT:
        """Read what ``execute_complete`` was given; anything else is an error naming it."""
        try:
            return cls.model_validate(event)
        except ValidationError:
            raise AirflowException(f"unexpected event from {cls.trigger_name}: {event!r}") from None


class TengrWaitTrigger(BaseTrigger):
    """Base of the provider's triggers; not used directly.

    :param tengr_conn_id: the connection to read with (the key itself is never serialized).
    :param poll_interval: seconds between reads.
    :param end_time: absolute deadline (epoch seconds), so a triggerer restart does not restart the clock.
    :param not_before: epoch seconds before which no event is yielded, however soon the wait ends: the
        deferring task sets it so that Airflow's scheduler has taken in the deferral's exit before the
        task is queued again. Serialized only when set, so an older provider can still load the trigger.
    """

    #: How the trigger sleeps (between its own reads, and holding an event until ``not_before``); tests
    #: replace it, as the hooks' and the poller's, instead of ``asyncio.sleep`` for everything in the loop.
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.tengr_conn_id = tengr_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time if end_time is not None else time.time() + DEFAULT_WAIT_TIMEOUT
        self.not_before = not_before

    def _arguments(self) -> dict[str, Any]:
        """This trigger's own keyword arguments, as plain values (the common ones are added)."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and keyword arguments: plain values, no secrets."""
        kwargs = {
            **self._arguments(),
            "tengr_conn_id": self.tengr_conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
        }
        if self.not_before is not None:
            kwargs["not_before"] = self.not_before
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _new_wait(self, artwork_id: str) -> ArtworkWait:
        """A wait for ``artwork_id``: its deadline on the epoch clock, so a triggerer restart keeps it."""
        return ArtworkWait(
            artwork_id,
            deadline=self.end_time,
            poll_interval=self.poll_interval,
            clock=time.time,
            logger=self.log,
        )

    def _hook(self) -> TengrAsyncHook:
        return TengrAsyncHook(self.tengr_conn_id)

    async def _wait_for_event(self) -> WaitEvent:
        """Wait as this trigger does; the event to yield."""
        raise NotImplementedError

    def _failure_event(self, exc: Exception) -> WaitEvent:
        """The event of a wait that raised ``exc``."""
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait, then hold the event until ``not_before``; any exception becomes an error event.

        ``CancelledError`` (task cleared, triggerer stopping, trigger moved) is not caught: it passes
        through the waits' ``finally``, which unregister from the poller.
        """
        try:
            event = await self._wait_for_event()
        except Exception as exc:
            event = self._failure_event(exc)
        early = (self.not_before or 0) - time.time()
        if early > 0:  # every event requeues the task, so every event waits (see ``not_before``)
            await self._sleep(early)
        yield TriggerEvent(event.model_dump())  # type: ignore[no-untyped-call]
