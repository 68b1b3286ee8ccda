"""TengrArtworkTrigger: serialization, one event per outcome, retries and deadlines."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aioresponses import aioresponses
from airflow.triggers.base import TriggerEvent
from tests.helpers import BASE_URL, SECRET_KEY

from tengr_provider.exceptions import TengrNotFoundError, TengrServerError
from tengr_provider.models import Artwork
from tengr_provider.triggers.artwork import TengrArtworkTrigger

ARTWORK_ID = "art-123"
ARTWORK_URL = f"{BASE_URL}/v1/artworks/{ARTWORK_ID}"


def artwork(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": ARTWORK_ID, "status": status, "results": [], **extra}


async def all_events(trigger: TengrArtworkTrigger) -> list[TriggerEvent]:
    return [event async for event in trigger.run()]


class ScriptedHook:
    """An async hook that answers a script of artworks or exceptions."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls = 0
        self.closed = False

    async def __aenter__(self) -> ScriptedHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True

    async def get_artwork(self, artwork_id: str) -> Artwork:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return Artwork.model_validate(step)


def scripted(monkeypatch: pytest.MonkeyPatch, script: list[Any]) -> ScriptedHook:
    hook = ScriptedHook(script)
    monkeypatch.setattr(TengrArtworkTrigger, "_hook", lambda self: hook)
    return hook


def test_serializes_to_plain_values_without_secrets() -> None:
    trigger = TengrArtworkTrigger(ARTWORK_ID, "my_conn", poll_interval=7, end_time=1234.5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "tengr_provider.triggers.artwork.TengrArtworkTrigger"
    assert kwargs == {
        "artwork_id": ARTWORK_ID,
        "tengr_conn_id": "my_conn",
        "poll_interval": 7,
        "end_time": 1234.5,
    }
    assert SECRET_KEY not in repr(kwargs)
    rebuilt = TengrArtworkTrigger(**kwargs)
    assert rebuilt.serialize() == trigger.serialize()


def test_default_deadline_is_absolute_and_an_hour_away() -> None:
    trigger = TengrArtworkTrigger(ARTWORK_ID)
    assert time.time() + 3590 < trigger.end_time <= time.time() + 3600


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("succeeded", "success"), ("done", "success"), ("failed", "error"), ("canceled", "error")],
)
async def test_one_event_per_final_status(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float], status: str, outcome: str
) -> None:
    hook = scripted(monkeypatch, [artwork("starting"), artwork("processing"), artwork(status)])
    events = await all_events(
        TengrArtworkTrigger(ARTWORK_ID, poll_interval=5, end_time=time.time() + 100, coalesce=False)
    )
    assert len(events) == 1
    assert events[0].payload["status"] == outcome
    assert events[0].payload["artwork"]["status"] == status
    assert ARTWORK_ID in events[0].payload["message"]
    assert len(no_sleep) == 2
    assert all(4.5 <= s <= 5.5 for s in no_sleep)  # the poll interval, spread by up to 10%
    assert hook.closed


async def test_deadline_yields_timeout_with_last_seen_artwork(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    scripted(monkeypatch, [artwork("processing")])
    events = await all_events(
        TengrArtworkTrigger(ARTWORK_ID, poll_interval=5, end_time=time.time() - 1, coalesce=False)
    )
    assert [e.payload["status"] for e in events] == ["timeout"]
    assert events[0].payload["artwork"]["status"] == "processing"
    assert "TengrArtworkSensor" in events[0].payload["message"]


async def test_never_sleeps_past_the_deadline(monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]) -> None:
    scripted(monkeypatch, [artwork("processing"), artwork("done")])
    await all_events(
        TengrArtworkTrigger(ARTWORK_ID, poll_interval=600, end_time=time.time() + 30, coalesce=False)
    )
    assert len(no_sleep) == 1
    assert 28 < no_sleep[0] <= 30


async def test_transient_failures_keep_polling(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    outage = TengrServerError(503, "down", method="GET", path="/v1/artworks/x")
    hook = scripted(monkeypatch, [outage, outage, artwork("succeeded")])
    events = await all_events(
        TengrArtworkTrigger(ARTWORK_ID, poll_interval=2, end_time=time.time() + 100, coalesce=False)
    )
    assert [e.payload["status"] for e in events] == ["success"]
    assert hook.calls == 3


async def test_not_found_becomes_an_error_event_naming_the_artwork(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    scripted(monkeypatch, [TengrNotFoundError(404, "Artwork not found", method="GET", path="/v1/artworks/x")])
    events = await all_events(TengrArtworkTrigger(ARTWORK_ID, end_time=time.time() + 100, coalesce=False))
    assert len(events) == 1
    assert events[0].payload["status"] == "error"
    assert events[0].payload["artwork"] == {"id": ARTWORK_ID}
    assert f"artwork {ARTWORK_ID} failed" in events[0].payload["message"]
    assert "Artwork not found" in events[0].payload["message"]


async def test_any_exception_becomes_an_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [RuntimeError("boom")])
    events = await all_events(TengrArtworkTrigger(ARTWORK_ID, coalesce=False))
    assert [e.payload["status"] for e in events] == ["error"]
    assert "boom" in events[0].payload["message"]


async def test_still_waiting_while_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = scripted(monkeypatch, [artwork("processing")])
    sleeps: list[float] = []
    third_sleep = asyncio.Event()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            third_sleep.set()
            await asyncio.Event().wait()  # the third pause lasts until the task is cancelled

    monkeypatch.setattr(TengrArtworkTrigger, "_sleep", staticmethod(sleep))
    trigger = TengrArtworkTrigger(ARTWORK_ID, poll_interval=5, end_time=time.time() + 60, coalesce=False)
    task = asyncio.ensure_future(trigger.run().__anext__())
    paused = asyncio.ensure_future(third_sleep.wait())
    await asyncio.wait({task, paused}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    paused.cancel()

    # Three reads said "processing", three pauses began, and no event was yielded.
    assert (hook.calls, len(sleeps), task.done()) == (3, 3, False)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hook.closed  # cancelled mid-pause, the hook's session is still closed


@pytest.fixture
def http() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


async def test_polls_the_api_through_the_async_hook(
    tengr_connection: str, http: aioresponses, no_sleep: list[float]
) -> None:
    http.get(ARTWORK_URL, payload=artwork("processing"))
    http.get(ARTWORK_URL, status=429, payload={"message": "slow down"}, headers={"Retry-After": "3"})
    http.get(ARTWORK_URL, payload=artwork("succeeded", results=["https://cdn.example/1.png"]))
    events = await all_events(
        TengrArtworkTrigger(
            ARTWORK_ID, tengr_connection, poll_interval=4, end_time=time.time() + 100, coalesce=False
        )
    )
    assert [e.payload["status"] for e in events] == ["success"]
    assert events[0].payload["artwork"]["results"] == ["https://cdn.example/1.png"]
    assert 3.6 <= no_sleep[0] <= 4.4
    assert 3.0 <= no_sleep[1] <= 4.5  # the 429's Retry-After, with jitter
    assert len([c for calls in http.requests.values() for c in calls]) == 3


async def test_api_404_through_the_async_hook_is_an_error_event(
    tengr_connection: str, http: aioresponses
) -> None:
    http.get(
        re.compile(r".*/v1/artworks/.*"), status=404, payload={"message": "Not Found", "statusCode": 404}
    )
    events = await all_events(TengrArtworkTrigger(ARTWORK_ID, tengr_connection, coalesce=False))
    assert [e.payload["status"] for e in events] == ["error"]
    assert "HTTP 404" in events[0].payload["message"]


def test_not_before_is_serialized_only_when_set() -> None:
    assert "not_before" not in TengrArtworkTrigger(ARTWORK_ID).serialize()[1]
    _, kwargs = TengrArtworkTrigger(ARTWORK_ID, not_before=1234.5).serialize()
    assert kwargs["not_before"] == 1234.5
    assert TengrArtworkTrigger(**kwargs).not_before == 1234.5


@pytest.mark.parametrize("answer", [artwork("succeeded"), TengrNotFoundError(404, "gone")])
async def test_an_event_is_held_until_not_before(monkeypatch: pytest.MonkeyPatch, answer: Any) -> None:
    """However soon the artwork ends (or the wait fails), the task is not requeued before not_before."""
    scripted(monkeypatch, [answer])
    not_before = time.time() + 0.4
    trigger = TengrArtworkTrigger(
        ARTWORK_ID, end_time=time.time() + 60, coalesce=False, not_before=not_before
    )
    (event,) = await all_events(trigger)
    assert time.time() >= not_before
    assert event.payload["status"] in ("success", "error")


async def test_an_event_after_not_before_is_not_delayed(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [artwork("succeeded")])
    started = time.monotonic()
    trigger = TengrArtworkTrigger(
        ARTWORK_ID, end_time=time.time() + 60, coalesce=False, not_before=time.time() - 1
    )
    (event,) = await all_events(trigger)
    assert event.payload["status"] == "success"
    assert time.monotonic() - started < 0.3


async def test_the_hold_until_not_before_is_the_triggers_own_sleep(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    scripted(monkeypatch, [artwork("succeeded")])
    trigger = TengrArtworkTrigger(
        ARTWORK_ID, end_time=time.time() + 60, coalesce=False, not_before=time.time() + 30
    )
    (event,) = await all_events(trigger)  # recorded, not slept: the test takes no 30 s
    assert event.payload["status"] == "success"
    assert len(no_sleep) == 1
    assert 25 < no_sleep[0] <= 30
