"""One pace for every create of a batch, set by the API's 429 answers.

A batch sends creates from several threads. If each thread backed off on its own, a rate limit would be
probed by every thread at once, over and over. Instead every create passes one gate: a 429 closes it
for the ``Retry-After`` the API sent (or an exponential backoff when it sent none), every thread waits
at it, and the first create accepted afterwards resets the backoff. Only the first refusal of a round
moves the gate: the other threads' refusals of the same round are the same news.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pace:
    """The gate every create of one batch passes.

    :param backoff_initial: seconds the gate closes after a 429 without ``Retry-After``; doubles with
        each such refusal in a row.
    :param backoff_max: the longest such closing (a ``Retry-After`` is honoured as sent).
    """

    #: How the pace sleeps and reads the clock; tests replace them.
    _sleep: Callable[[float], None] = staticmethod(time.sleep)
    _clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, backoff_initial: float = 1.0, backoff_max: float = 60.0) -> None:
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._lock = threading.Lock()
        self._open_at = 0.0
        self._round = 0
        self._backoff = backoff_initial
        #: 429 answers seen, and the seconds the gate was closed in all (for the progress line).
        self.refusals = 0
        self.closed_seconds = 0.0

    def wait(self) -> int:
        """Block until the gate is open; return the round, to hand to :meth:`refused`."""
        while True:
            with self._lock:
                pause = self._open_at - self._clock()
                current = self._round
            if pause <= 0:
                return current
            self._sleep(pause)

    def refused(self, round_: int, retry_after: float | None) -> None:
        """A create sent in round ``round_`` was answered 429 (with ``Retry-After``, when it said so)."""
        with self._lock:
            self.refusals += 1
            if round_ != self._round:
                return  # another thread's refusal of the same round already closed the gate
            if retry_after is not None:
                pause = max(float(retry_after), 0.0)
            else:
                pause, self._backoff = self._backoff, min(self._backoff * 2, self.backoff_max)
            self._open_at = self._clock() + pause
            self.closed_seconds += pause
            self._round += 1

    def accepted(self) -> None:
        """A create went through: the next refusal without ``Retry-After`` starts the backoff over."""
        with self._lock:
            self._backoff = self.backoff_initial
