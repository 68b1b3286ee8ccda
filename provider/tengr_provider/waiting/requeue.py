"""The least time before a task that let go of its worker is queued again, and why there is one.

When a try ends by deferring (or by rescheduling a sensor), the executor still reports the ended
workload as "success", and Airflow's scheduler reads that report on a later loop. If the task was
queued again in between (its trigger fired, its reschedule date passed), Airflow 3.0 to 3.3 take the
stale report for a task killed behind their back and fail it: "Executor ... reported that the task
instance ... finished with state success, but the task instance's state attribute is queued"
(apache/airflow #66374; 3.3.2 guards only the ``scheduled`` state, #66431; ``queued`` is #68741 and
``running`` #72716). Artworks that end within seconds of the deferral hit it: 10 to 50 of 100 here, by
load. Holding the trigger's event (and the next poke of a rescheduled sensor) until the report has
surely been read closes the window from the provider's side; it costs a quick artwork that much latency
and a slow one nothing (docs/deferrable.md has the figures).

The deferring side computes the moment (:func:`earliest_requeue`); the triggers hold their event until
it (:class:`~tengr_provider.triggers._base.TengrWaitTrigger`).
"""

from __future__ import annotations

import time

from tengr_provider.version_compat import conf, runs_in_process

#: Least seconds between a try letting go of its worker (defer, reschedule) and the task being queued
#: again, unless ``[tengr] requeue_settle_seconds`` says otherwise: longer than the scheduler takes to
#: read the executor's report of that exit. Measured on 2 cores: 7.5 s at most with the machine 4x
#: oversubscribed, 19 s at 12x (docs/benchmarks.md, section 5).
REQUEUE_SETTLE = 30.0


def requeue_settle() -> float:
    """``[tengr] requeue_settle_seconds`` (default :data:`REQUEUE_SETTLE`): 0 on an Airflow that has the
    scheduler's fixes, more on a scheduler that reads its executor's reports later than that.

    Under ``dag.test()`` it is 0: the trigger runs inline in the task's own process, and no executor
    reports anything to a scheduler.
    """
    if runs_in_process():
        return 0.0
    seconds = float(conf.getfloat("tengr", "requeue_settle_seconds", fallback=REQUEUE_SETTLE))
    if seconds < 0:
        raise ValueError(f"[tengr] requeue_settle_seconds: must be >= 0 seconds, got {seconds:g}")
    return seconds


def earliest_requeue() -> float:
    """Epoch seconds before which a task that lets go of its worker now must not be queued again."""
    return time.time() + requeue_settle()
