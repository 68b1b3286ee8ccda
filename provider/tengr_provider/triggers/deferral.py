"""How a task hands its wait to the triggerer: the default switch, the deferral, its grace period, and
the least time before the task is queued again.

The operators and the sensor defer the same way; stating it once keeps one grace period.

Why a task is never requeued sooner than :func:`requeue_settle` seconds (30 by default) after it let
go of its worker (by deferring, or by rescheduling a sensor): when a try ends that way, the executor
still reports the ended workload as "success", and Airflow's scheduler reads that report on a later
loop. If the task was queued again in between (its trigger fired, its reschedule date passed),
Airflow 3.0 to 3.3 take the stale report for a task killed behind their back and fail it: "Executor
... reported that the task instance ... finished with state success, but the task instance's state
attribute is queued" (apache/airflow #66374; 3.3.2 guards only the ``scheduled`` state, #66431;
``queued`` is #68741 and ``running`` #72716). Artworks that end within seconds of the deferral hit it:
10 to 50 of 100 here, by load. Holding the trigger's event (and the next poke of a rescheduled sensor)
until the report has surely been read closes the window from the provider's side; it costs a quick
artwork that much latency and a slow one nothing (docs/deferrable.md has the figures).
"""

from __future__ import annotations

import time
from datetime import timedelta

from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.version_compat import BaseOperator, conf

#: Extra seconds the deferral may outlive the trigger's own deadline, so the trigger reports first
#: (with the artwork's last status) instead of Airflow timing the task out without it.
DEFER_GRACE = 120

#: Least seconds between a try letting go of its worker (defer, reschedule) and the task being queued
#: again, unless ``[tengr] requeue_settle_seconds`` says otherwise: longer than the scheduler takes to
#: read the executor's report of that exit. Measured on 2 cores: 7.5 s at most with the machine 4x
#: oversubscribed, 19 s at 12x (docs/benchmarks.md, section 5).
REQUEUE_SETTLE = 30.0


def requeue_settle() -> float:
    """``[tengr] requeue_settle_seconds`` (default :data:`REQUEUE_SETTLE`): 0 on an Airflow that has the
    scheduler's fixes, more on a scheduler that reads its executor's reports later than that."""
    seconds = float(conf.getfloat("tengr", "requeue_settle_seconds", fallback=REQUEUE_SETTLE))
    if seconds < 0:
        raise ValueError(f"[tengr] requeue_settle_seconds: must be >= 0 seconds, got {seconds:g}")
    return seconds


def earliest_requeue() -> float:
    """Epoch seconds before which a task that lets go of its worker now must not be queued again."""
    return time.time() + requeue_settle()


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
        timeout=timedelta(seconds=timeout + max(DEFER_GRACE, 2 * poll_interval)),
    )
