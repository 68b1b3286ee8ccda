"""HTTP facts the API calls and the result downloads share: what is worth another try, how long to wait.

Kept apart from both so that storage (a leaf) need not import the hooks to agree with them. There is one
backoff wait (:class:`RetryWait`) and one rule for a wait budget (:func:`sleep_passes_budget`): a
``Retry-After`` is read as sent and never capped here, because the cap is the budget of whoever waits
(the connection's ``rate_limit_timeout`` for a call, the copier's for a download, ``TengrRetryPolicy``'s
``max_retry_after`` for a task retry). A wait that would pass its budget is not shortened: the call ends
at once with the server's answer in hand, its ``retry_after`` intact, for the next layer to honour.
"""

from __future__ import annotations

import email.utils
import math
import random
import time

from tenacity import RetryCallState, wait_exponential, wait_random

#: Statuses that are worth another try: rate limits and transient server failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Jitter added to a server's ``Retry-After``: up to this share of it again.
RETRY_AFTER_JITTER = 0.5


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given as seconds or as an HTTP date; as sent."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _outcome_retry_after(retry_state: RetryCallState) -> float | None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    return None if retry_after is None else float(retry_after)


class RetryWait:
    """Tenacity wait: the server's ``Retry-After`` when it sent one, else exponential backoff; plus jitter.

    The unjittered wait is the least the caller waits: the server's word, or the backoff. Jitter adds
    to it (up to half of ``Retry-After`` again, or up to ``initial``), because clients refused in the
    same second are told the same wait and would otherwise all come back in the same second, but never
    past ``budget``: whether the wait fits the budget depends on the least wait alone, not on chance.

    :param initial: the first backoff wait; it doubles with each try.
    :param maximum: the longest backoff wait (a server's ``Retry-After`` is kept as sent).
    :param budget: seconds the caller may sleep in all (``RetryCallState.idle_for`` counts them).
    """

    def __init__(self, initial: float, maximum: float, budget: float = math.inf) -> None:
        self._backoff = wait_exponential(multiplier=initial, max=maximum)
        self._jitter = wait_random(0, initial)
        self._budget = budget

    def __call__(self, retry_state: RetryCallState) -> float:
        retry_after = _outcome_retry_after(retry_state)
        if retry_after is not None:
            least, jitter = retry_after, retry_after * random.uniform(0, RETRY_AFTER_JITTER)
        else:
            least, jitter = float(self._backoff(retry_state)), float(self._jitter(retry_state))
        room = self._budget - retry_state.idle_for - least
        return least + max(0.0, min(jitter, room))


def sleep_passes_budget(retry_state: RetryCallState, budget: float) -> bool:
    """Whether the coming sleep would take the time slept so far past ``budget``, or it is spent already
    (so a budget of 0 never waits); a tenacity stop test.

    Needs tenacity 8.3+, which computes the wait (``upcoming_sleep``) before it asks the stop.
    """
    spent = retry_state.idle_for
    return spent >= budget or spent + retry_state.upcoming_sleep > budget
