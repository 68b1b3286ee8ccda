"""How a task hands its wait to the triggerer: the default switch, the deferral and its grace period.

The operators and the sensor defer the same way; stating it once keeps one grace period.
"""

from __future__ import annotations

import time
from datetime import timedelta

from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.version_compat import BaseOperator, conf

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
        ),
        method_name="execute_complete",
        timeout=timedelta(seconds=timeout + max(DEFER_GRACE, 2 * poll_interval)),
    )
