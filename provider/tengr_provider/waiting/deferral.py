"""How a task waits for one artwork: on its worker, or handed to the triggerer (the default switch,
the deferral and its grace period).

The operators and the sensor defer the same way; stating it once keeps one grace period. The trigger
is told not to answer before :func:`~tengr_provider.waiting.requeue.earliest_requeue`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.version_compat import BaseOperator, conf
from tengr_provider.waiting.requeue import earliest_requeue

if TYPE_CHECKING:
    from tengr_provider.hooks.tengr import TengrHook
    from tengr_provider.models import Artwork

#: Extra seconds the deferral may outlive the trigger's own deadline, so the trigger reports first
#: (with the artwork's last status) instead of Airflow timing the task out without it.
DEFER_GRACE = 120


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, the switch Airflow users expect every provider to honour."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def defer_artwork_wait(
    task: BaseOperator, *, artwork_id: str, tengr_conn_id: str, poll_interval: float, timeout: float
) -> None:
    """Defer ``task`` to a :class:`TengrArtworkTrigger`; it resumes in ``execute_complete``.

    :param task: the operator or sensor that waits.
    :param artwork_id: the artwork to wait for.
    :param tengr_conn_id: the connection the trigger reads it with.
    :param poll_interval: seconds between reads.
    :param timeout: seconds of waiting, from now; the trigger's deadline is absolute.
    :raises TaskDeferred: always (that is how Airflow defers).
    """
    task.defer(
        trigger=TengrArtworkTrigger(
            artwork_id=artwork_id,
            tengr_conn_id=tengr_conn_id,
            poll_interval=poll_interval,
            end_time=time.time() + timeout,
            not_before=earliest_requeue(),
        ),
        method_name="execute_complete",
        timeout=deferral_timeout(timeout, poll_interval),
    )


def deferral_timeout(wait_seconds: float, poll_interval: float) -> timedelta:
    """How long Airflow lets a deferral last: the trigger's own wait plus :data:`DEFER_GRACE` (or two
    polls, if longer), so the trigger reports first."""
    return timedelta(seconds=wait_seconds + max(DEFER_GRACE, 2 * poll_interval))


def wait_or_defer(
    task: BaseOperator,
    hook: TengrHook,
    artwork_id: str,
    *,
    deferrable: bool,
    tengr_conn_id: str,
    poll_interval: float,
    timeout: float,
) -> Artwork:
    """Wait for the artwork on the worker and return it final, or defer ``task`` when ``deferrable``
    (to a trigger that reads with ``tengr_conn_id``).

    :raises TaskDeferred: when ``deferrable`` (the task resumes in ``execute_complete``).
    :raises TengrArtworkFailedError: the artwork failed or was canceled (worker-side wait).
    :raises TengrWaitTimeoutError: ``timeout`` passed first (worker-side wait).
    """
    if deferrable:
        defer_artwork_wait(
            task,
            artwork_id=artwork_id,
            tengr_conn_id=tengr_conn_id,
            poll_interval=poll_interval,
            timeout=timeout,
        )
    return hook.wait_for_artwork(artwork_id, poll_interval, timeout)
