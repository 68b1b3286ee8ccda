"""TengrBatchTrigger: one small event once enough of a batch's artworks ended, never before not_before."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent
from tests.helpers import SECRET_KEY

from tengr_provider.exceptions import TengrAuthError
from tengr_provider.models import Artwork
from tengr_provider.triggers import batch
from tengr_provider.triggers.batch import BatchWaitEvent, TengrBatchTrigger, enough_ended


class Batch:
    """A batch's artworks as the API shows them, by id and in the list: one more ends every 50 ms."""

    def __init__(
        self, ids: list[str], *, end_at_most: int | None = None, failure: Exception | None = None
    ) -> None:
        self.ids = ids
        self.started = time.monotonic()
        self.end_at_most = len(ids) if end_at_most is None else end_at_most
        self.failure = failure

    def _artwork(self, n: int) -> Artwork:
        if self.failure is not None:
            raise self.failure
        ended = min(int((time.monotonic() - self.started) / 0.05), self.end_at_most)
        return Artwork(id=self.ids[n], status="succeeded" if n < ended else "processing", results=[])

    async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        return [self._artwork(n) for n in range(len(self.ids))][offset : offset + limit]

    async def get_artwork(self, artwork_id: str) -> Artwork:
        return self._artwork(self.ids.index(artwork_id))

    async def close(self) -> None:
        pass


def trigger_over(monkeypatch: pytest.MonkeyPatch, fake: Batch, **kwargs: Any) -> TengrBatchTrigger:
    monkeypatch.setattr(TengrBatchTrigger, "_hook", lambda self: fake)
    options: dict[str, Any] = {"poll_interval": 0.01, "end_time": time.time() + 30, **kwargs}
    return TengrBatchTrigger(fake.ids, "tengr_default", **options)


async def events(trigger: TengrBatchTrigger) -> list[TriggerEvent]:
    return [event async for event in trigger.run()]


def test_serializes_to_plain_values_without_secrets() -> None:
    trigger = TengrBatchTrigger(["a", "b"], "my_conn", poll_interval=7, end_time=1234.5, not_before=99.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "tengr_provider.triggers.batch.TengrBatchTrigger"
    assert kwargs == {
        "artwork_ids": ["a", "b"],
        "tengr_conn_id": "my_conn",
        "poll_interval": 7,
        "end_time": 1234.5,
        "not_before": 99.0,
    }
    assert SECRET_KEY not in repr(kwargs)
    assert TengrBatchTrigger(**kwargs).serialize() == trigger.serialize()


async def test_one_event_when_every_artwork_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Batch([f"art-{n}" for n in range(6)])
    (event,) = await events(trigger_over(monkeypatch, fake))
    assert BatchWaitEvent.parse(event.payload) == BatchWaitEvent(
        status="ready", ended=6, waiting=6, message="6 of 6 tengr.ai artworks ended"
    )


async def test_stragglers_are_left_behind_once_half_ended_and_the_grace_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "STRAGGLER_GRACE", 0.2)
    fake = Batch([f"art-{n}" for n in range(6)], end_at_most=3)
    started = time.monotonic()
    (event,) = await events(trigger_over(monkeypatch, fake))
    assert BatchWaitEvent.parse(event.payload).status == "ready"
    assert BatchWaitEvent.parse(event.payload).ended == 3
    assert time.monotonic() - started >= 0.2


async def test_the_event_never_comes_before_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Batch(["art-0"])
    not_before = time.time() + 0.5
    (event,) = await events(trigger_over(monkeypatch, fake, not_before=not_before))
    assert time.time() >= not_before
    assert event.payload["status"] == "ready"


async def test_the_deadline_ends_the_wait_with_a_timeout_event(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Batch([f"art-{n}" for n in range(4)], end_at_most=0)
    (event,) = await events(trigger_over(monkeypatch, fake, end_time=time.time() + 0.3))
    assert BatchWaitEvent.parse(event.payload).status == "timeout"
    assert "4 of 4 tengr.ai artworks unfinished" in event.payload["message"]


async def test_a_refused_key_ends_every_wait_and_the_trigger_still_yields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = Batch(["art-0"], failure=TengrAuthError(401, "Unauthorized"))
    (event,) = await events(trigger_over(monkeypatch, fake))
    assert event.payload["status"] == "ready"
    assert event.payload["ended"] == 1


def test_resume_when_all_ended_or_half_and_the_grace_passed() -> None:
    assert enough_ended(4, 4, None, 0)
    assert not enough_ended(3, 4, 100.0, 100.0 + batch.STRAGGLER_GRACE - 1)
    assert enough_ended(3, 4, 100.0, 100.0 + batch.STRAGGLER_GRACE)
    assert not enough_ended(1, 4, None, 1e12)


def test_an_event_it_did_not_send_is_an_error_naming_it() -> None:
    with pytest.raises(Exception, match="unexpected event from TengrBatchTrigger"):
        BatchWaitEvent.parse({"status": "weird"})
