"""HTTP facts the API calls and the result downloads share: what is worth another try, how long to wait.

Kept apart from both so that storage (a leaf) need not import the hooks to agree with them.
"""

from __future__ import annotations

import email.utils
import time

#: Statuses that are worth another try: rate limits and transient server failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest wait we accept from a ``Retry-After`` header, so a bad header cannot park a task for a day.
MAX_RETRY_AFTER = 600.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given as seconds or as an HTTP date."""
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
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
