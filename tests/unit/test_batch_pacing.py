"""One pace for a whole batch: a 429 closes the gate for every create thread, once per round."""

from __future__ import annotations

import threading
import time

import pytest

from tengr_provider.batch.pacing import Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(Pace, "_clock", staticmethod(clock.time))
    monkeypatch.setattr(Pace, "_sleep", staticmethod(clock.sleep))
    return clock


def test_retry_after_closes_the_gate_for_everyone_that_long(clock: Clock) -> None:
    pace = Pace()
    round_ = pace.wait()
    pace.refused(round_, retry_after=3)
    assert pace.wait() == round_ + 1
    assert clock.slept == [3]


def test_refusals_of_one_round_move_the_gate_once(clock: Clock) -> None:
    pace = Pace()
    round_ = pace.wait()
    for _ in range(16):  # sixteen threads refused at the same moment
        pace.refused(round_, retry_after=2)
    pace.wait()
    assert clock.slept == [2]
    assert pace.refusals == 16


def test_without_retry_after_the_backoff_doubles_until_a_create_goes_through(clock: Clock) -> None:
    pace = Pace(backoff_initial=1, backoff_max=3)
    for _ in range(4):
        pace.refused(pace.wait(), retry_after=None)
    pace.wait()
    pace.accepted()
    pace.refused(pace.wait(), retry_after=None)
    pace.wait()
    assert clock.slept == [1, 2, 3, 3, 1]


def test_threads_wait_at_the_gate_together() -> None:
    pace = Pace()
    started = time.monotonic()
    pace.refused(pace.wait(), retry_after=0.3)
    passed: list[float] = []
    threads = [threading.Thread(target=lambda: passed.append(pace.wait())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert passed == [1] * 8
    assert time.monotonic() - started >= 0.29
    assert pace.closed_seconds == pytest.approx(0.3)
