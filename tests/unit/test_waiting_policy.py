"""One waiting policy: the same outage ends the same way in poll mode, in the sensor and in the trigger.

Each test puts the same fault in front of every mode: answers of 503 that outlast the hook's own
retries (``max_retries`` 1: two answers per read), then either a recovery or the deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from aioresponses import aioresponses
from tests.helpers import BASE_URL, connection_env, task_context

from tengr_provider.exceptions import TengrWaitTimeoutError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.sensors.artwork import TengrArtworkSensor
from tengr_provider.triggers.artwork import TengrArtworkTrigger

ARTWORK_ID = "art-42"
ARTWORK_URL = f"{BASE_URL}/v1/artworks/{ARTWORK_ID}"
DONE = {"id": ARTWORK_ID, "status": "succeeded", "results": ["https://cdn.example/a.png"]}
OUTAGE = {"message": "Service Unavailable", "statusCode": 503}
#: Two reads' worth of 503s: each read is tried twice (max_retries 1) and fails after its retry.
OUTAGE_ANSWERS = 4


@pytest.fixture(autouse=True)
def quick_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    name, value = connection_env(extra=json.dumps({"max_retries": 1, "backoff_initial": 0.01}))
    monkeypatch.setenv(name, value)


@pytest.fixture
def sync_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        for _ in range(OUTAGE_ANSWERS):
            mocked.get(ARTWORK_URL, status=503, json=OUTAGE)
        mocked.get(ARTWORK_URL, json=DONE)
        yield mocked


@pytest.fixture
def async_api() -> Iterator[aioresponses]:
    with aioresponses() as mocked:
        for _ in range(OUTAGE_ANSWERS):
            mocked.get(ARTWORK_URL, status=503, payload=OUTAGE)
        mocked.get(ARTWORK_URL, payload=DONE)
        yield mocked


def test_poll_mode_waits_through_an_outage_that_outlasts_the_retries(
    sync_api: responses.RequestsMock, no_sleep: list[float]
) -> None:
    artwork = TengrHook().wait_for_artwork(ARTWORK_ID, poll_interval=5, timeout=600)

    assert artwork.status.value == "succeeded"
    assert len(sync_api.calls) == OUTAGE_ANSWERS + 1


async def test_the_trigger_waits_through_the_same_outage(
    async_api: aioresponses, no_sleep: list[float]
) -> None:
    trigger = TengrArtworkTrigger(ARTWORK_ID, poll_interval=5, end_time=time.time() + 600, coalesce=False)

    events = [event.payload async for event in trigger.run()]

    assert [event["status"] for event in events] == ["success"]
    assert sum(len(calls) for calls in async_api.requests.values()) == OUTAGE_ANSWERS + 1


def test_the_sensor_pokes_through_the_same_outage(
    sync_api: responses.RequestsMock, no_sleep: list[float]
) -> None:
    sensor = TengrArtworkSensor(task_id="wait", artwork_id=ARTWORK_ID, poke_interval=5, timeout=600)

    pokes = [sensor.poke(task_context()) for _ in range(3)]

    assert [poke.is_done for poke in pokes] == [False, False, True]
    assert pokes[-1].xcom_value["status"] == "succeeded"


def test_poll_mode_ends_an_outage_at_the_deadline_with_a_timeout(no_sleep: list[float]) -> None:
    with responses.RequestsMock() as mocked:
        mocked.get(ARTWORK_URL, status=503, json=OUTAGE)
        with pytest.raises(TengrWaitTimeoutError, match=f"{ARTWORK_ID} still 'unknown'"):
            TengrHook().wait_for_artwork(ARTWORK_ID, poll_interval=5, timeout=0)


async def test_the_trigger_ends_the_same_outage_at_the_deadline_with_a_timeout(
    no_sleep: list[float],
) -> None:
    with aioresponses() as mocked:
        mocked.get(ARTWORK_URL, status=503, payload=OUTAGE, repeat=True)
        trigger = TengrArtworkTrigger(ARTWORK_ID, poll_interval=5, end_time=time.time(), coalesce=False)
        events: list[dict[str, Any]] = [event.payload async for event in trigger.run()]

    assert [event["status"] for event in events] == ["timeout"]
    assert f"{ARTWORK_ID} still 'unknown'" in events[0]["message"]
