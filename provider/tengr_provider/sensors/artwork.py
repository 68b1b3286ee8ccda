"""Wait for an artwork someone else created: a submit-without-waiting task, a webhook flow, a UI job."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.exceptions import TRANSIENT_ERRORS, TengrArtworkFailedError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.triggers.artwork import ArtworkWaitEvent
from tengr_provider.version_compat import (
    AirflowRescheduleException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
)
from tengr_provider.waiting.deferral import default_deferrable, defer_artwork_wait
from tengr_provider.waiting.policy import note_unknown_status
from tengr_provider.waiting.requeue import earliest_requeue

if TYPE_CHECKING:
    from tengr_provider.version_compat import Context


class TengrArtworkSensor(BaseSensorOperator):
    """Succeed when the artwork is ``succeeded`` or ``done``, pushing its JSON as the XCom.

    Fails with the artwork id and status when it ends ``failed`` or ``canceled``, and with the API's
    message when it does not exist (404: unknown, or past the 8-day retention). Works in ``poke`` and
    ``reschedule`` mode, and with ``deferrable=True`` waits in the triggerer.

    :param artwork_id: the artwork to wait for (templated).
    :param tengr_conn_id: the tengr connection (templated).
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    template_fields = ("artwork_id", "tengr_conn_id")

    def __init__(
        self,
        *,
        artwork_id: str,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.artwork_id = artwork_id
        self.tengr_conn_id = tengr_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._unknown_seen: set[tuple[str, str]] = set()

    @cached_property
    def hook(self) -> TengrHook:
        """The hook, created on first use in the task's process."""
        return TengrHook(tengr_conn_id=self.tengr_conn_id)

    def poke(self, context: Context) -> PokeReturnValue:
        """One read of the artwork: done (with its JSON), not yet, or a failure.

        A 429, 5xx or connection failure that outlasts the hook's retries counts as "not yet": the
        sensor keeps poking until its timeout, as the trigger does (see :mod:`tengr_provider.waiting.policy`).
        """
        try:
            artwork = self.hook.get_artwork(self.artwork_id)
        except TRANSIENT_ERRORS as exc:
            self.log.warning(
                "tengr.ai artwork %s: %s; will try again until the timeout", self.artwork_id, exc
            )
            return PokeReturnValue(is_done=False)
        note_unknown_status(artwork, self._unknown_seen, self.log)
        if artwork.status.is_terminal and not artwork.status.is_success:
            raise TengrArtworkFailedError(artwork.id, artwork.status.value)
        if not artwork.status.is_success:
            self.log.info("tengr.ai artwork %s is %s", artwork.id, artwork.status.value)
        return PokeReturnValue(is_done=artwork.status.is_success, xcom_value=artwork.to_api())

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as usual, or poke once and defer the rest of the wait.

        In ``reschedule`` mode the next poke is never sooner than
        :func:`~tengr_provider.waiting.requeue.earliest_requeue`: Airflow's scheduler
        fails a task queued again before it read the report of the try that rescheduled it.
        """
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowRescheduleException as reschedule:
                earliest = datetime.fromtimestamp(earliest_requeue(), timezone.utc)
                if reschedule.reschedule_date >= earliest:
                    raise
                self.log.info(
                    "Next poke at %s, not in %g s: a sensor rescheduled sooner can be failed by Airflow's "
                    "scheduler (see the troubleshooting page, 'state attribute is queued')",
                    earliest.isoformat(timespec="seconds"),
                    self.poke_interval,
                )
                raise AirflowRescheduleException(earliest) from None  # type: ignore[no-untyped-call]
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        defer_artwork_wait(
            self,
            artwork_id=self.artwork_id,
            tengr_conn_id=self.tengr_conn_id,
            poll_interval=self.poke_interval,
            timeout=self.timeout,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Finish after the trigger: the artwork's JSON, or a failure naming it."""
        wait_event = ArtworkWaitEvent.parse(event)
        if wait_event.status == "timeout":
            raise AirflowSensorTimeout(wait_event.message or f"artwork {self.artwork_id} timed out")
        wait_event.final_artwork()  # raises for a failed, canceled or broken wait
        return wait_event.artwork
