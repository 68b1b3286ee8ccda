"""The shared status poller: one list call answers many waits; the per-id fallback keeps each correct."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from aioresponses import aioresponses
from tests.helpers import BASE_URL, LogText

from tengr_provider.exceptions import (
    TengrApiError,
    TengrAuthError,
    TengrBadRequestError,
    TengrNotFoundError,
    TengrRateLimitError,
    TengrServerError,
)
from tengr_provider.models import Artwork
from tengr_provider.testing import TengrEmulator
from tengr_provider.triggers import _poller
from tengr_provider.triggers._poller import (
    PAGE_LIMIT,
    RESOLVE_SLICE,
    SPOT_CHECKS,
    STUCK_ROUNDS,
    PollerKey,
    StatusPoller,
    page_budget,
)
from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.waiting.policy import ArtworkWait

INTERVAL = 0.01


class FakeApi:
    """An account's artworks; each read advances an artwork by one status step."""

    def __init__(self, steps: dict[str, list[str]], *, listed: bool = True) -> None:
        self.steps = steps
        self.reads: dict[str, int] = {}
        self.listed = listed
        self.calls: list[str] = []
        self.failures: list[Exception] = []
        self.closed = 0

    def _read(self, artwork_id: str) -> Artwork:
        n = self.reads.get(artwork_id, 0)
        self.reads[artwork_id] = n + 1
        steps = self.steps[artwork_id]
        return Artwork.model_validate({"id": artwork_id, "status": steps[min(n, len(steps) - 1)]})

    async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        self.calls.append(f"list {offset}")
        if self.failures:
            raise self.failures.pop(0)
        if not self.listed:
            return []
        ids = list(self.steps)[offset : offset + limit]
        return [self._read(artwork_id) for artwork_id in ids]

    async def get_artwork(self, artwork_id: str) -> Artwork:
        self.calls.append(f"get {artwork_id}")
        if artwork_id not in self.steps:
            raise TengrNotFoundError(
                404, "Artwork not found", method="GET", path=f"/v1/artworks/{artwork_id}"
            )
        return self._read(artwork_id)

    async def close(self) -> None:
        self.closed += 1


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeApi]:
    """Fake APIs by connection id, handed to the poller through the trigger's hook factory."""
    by_conn: dict[str, FakeApi] = {}
    monkeypatch.setattr(TengrArtworkTrigger, "_hook", lambda self: by_conn[self.tengr_conn_id])
    return by_conn


def trigger(artwork_id: str, conn: str = "tengr_default", **kwargs: Any) -> TengrArtworkTrigger:
    kwargs.setdefault("end_time", time.time() + 30)
    return TengrArtworkTrigger(artwork_id, conn, poll_interval=INTERVAL, **kwargs)


async def events_of(t: TengrArtworkTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in t.run()]


async def run_all(*triggers: TengrArtworkTrigger) -> list[list[dict[str, Any]]]:
    return list(await asyncio.gather(*(events_of(t) for t in triggers)))


def pollers() -> dict[Any, StatusPoller]:
    return _poller._POLLERS.get(asyncio.get_running_loop(), {})


async def test_one_list_call_answers_every_registered_wait(apis: dict[str, FakeApi]) -> None:
    ids = [f"a{i}" for i in range(20)]
    apis["tengr_default"] = api = FakeApi({i: ["processing", "succeeded"] for i in ids})

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert [events[0]["artwork"]["id"] for events in results] == ids
    rounds = sum(call.startswith("list") for call in api.calls)
    assert rounds <= 3  # a round or two for 20 waits, never one call per wait
    assert len(api.calls) - rounds <= SPOT_CHECKS * rounds  # plus the spot checks, a few per round
    assert api.closed == 1
    assert not pollers()


async def test_ids_the_list_does_not_show_are_read_one_by_one(apis: dict[str, FakeApi]) -> None:
    steps = {"a": ["processing", "done"], "b": ["failed"], "c": ["succeeded"], "d": ["succeeded"]}
    apis["tengr_default"] = api = FakeApi(steps, listed=False)

    results = await run_all(*(trigger(i) for i in steps))

    statuses = [[e["status"] for e in events] for events in results]
    assert statuses == [["success"], ["error"], ["success"], ["success"]]
    assert api.calls.count("get a") == 2
    assert api.calls.count("get b") == 1
    assert "list 0" in api.calls


async def test_as_few_waits_as_spot_checks_are_read_by_id_without_the_list(apis: dict[str, FakeApi]) -> None:
    ids = [f"a{i}" for i in range(SPOT_CHECKS)]
    apis["tengr_default"] = api = FakeApi({i: ["processing", "succeeded"] for i in ids})

    results = await run_all(*(trigger(i) for i in ids))

    assert [events[0]["status"] for events in results] == ["success"] * SPOT_CHECKS
    assert sorted(api.calls) == sorted(f"get {i}" for i in ids for _ in range(2))  # the per-id cost, no more


async def test_a_404_ends_only_that_wait(apis: dict[str, FakeApi]) -> None:
    apis["tengr_default"] = FakeApi({"a": ["processing", "succeeded"]})

    results = await run_all(trigger("a"), trigger("missing"))

    assert results[0][0]["status"] == "success"
    assert results[1][0]["status"] == "error"
    assert "Artwork not found" in results[1][0]["message"]


async def until(condition: Callable[[], object], what: str) -> None:
    """Let the loop run until ``condition`` holds (at most 1,000 poll intervals); fail naming ``what``."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(INTERVAL)
    raise AssertionError(f"timed out waiting for {what}")


async def rounds_pass(api: FakeApi, reads_of_b: int) -> list[str]:
    """Wait until the poller has read ``b`` ``reads_of_b`` more times; the calls made meanwhile."""
    start = len(api.calls)
    await until(lambda: api.calls[start:].count("get b") >= reads_of_b, f"{reads_of_b} more reads of b")
    return api.calls[start:]


async def test_a_cancelled_trigger_unregisters_and_the_poller_stops(apis: dict[str, FakeApi]) -> None:
    # The list shows no id, so every round reads each registered id by itself: what a round asks for
    # is exactly who is registered.
    apis["tengr_default"] = api = FakeApi({"a": ["processing"], "b": ["processing"]}, listed=False)
    task_a = asyncio.ensure_future(events_of(trigger("a")))
    task_b = asyncio.ensure_future(events_of(trigger("b")))
    assert "get a" in await rounds_pass(api, reads_of_b=1)
    (poller,) = pollers().values()
    assert poller.waiting == 2

    task_a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task_a
    assert poller.waiting == 1
    await rounds_pass(api, reads_of_b=1)  # a round already under way may still have asked for a
    after = await rounds_pass(api, reads_of_b=2)
    assert "get a" not in after  # two whole rounds since, and nobody asked for a

    task_b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task_b
    assert not pollers()
    await until(lambda: api.closed, "the stopped poller to close its hook")
    assert api.closed == 1
    calls = len(api.calls)
    for _ in range(5):
        await asyncio.sleep(INTERVAL)
    assert len(api.calls) == calls  # nobody waits: no more calls


async def test_a_wait_that_leaves_while_the_list_is_read_is_not_remembered() -> None:
    ids = [f"a{i}" for i in range(SPOT_CHECKS + 2)]  # more waits than spot checks: the list is read

    class LeavingApi(FakeApi):
        """Drops the waits nobody read by id while the list call is on its way."""

        async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
            for artwork_id in ids:
                if f"get {artwork_id}" not in self.calls:
                    poller.unregister(futures[artwork_id])
            return await super().list_artworks(offset, limit)

    api = LeavingApi({artwork_id: ["processing"] for artwork_id in ids})
    poller = StatusPoller(PollerKey("tengr_default"), api, logging.getLogger(__name__))
    futures = {
        artwork_id: poller.register(
            ArtworkWait(artwork_id, deadline=60, poll_interval=60, clock=time.monotonic, logger=None)  # type: ignore[arg-type]
        )
        for artwork_id in ids
    }
    await until(lambda: "list 0" in api.calls, "a round that reads the list")

    assert poller.waiting == SPOT_CHECKS
    assert set(poller._listed) <= set(poller._waits)  # the ones that left are not tracked again
    for future in futures.values():
        poller.unregister(future)
    await until(lambda: api.closed, "the stopped poller to close its hook")


async def test_backoff_on_429_and_5xx_applies_to_the_poller_as_a_whole(
    apis: dict[str, FakeApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    apis["tengr_default"] = api = FakeApi({f"a{i}": ["processing", "done"] for i in range(10)})
    api.failures = [
        TengrRateLimitError(429, "slow down", method="GET", path="/v1/artworks"),
        TengrServerError(503, "down", method="GET", path="/v1/artworks"),
    ]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(StatusPoller, "_sleep", staticmethod(sleep))

    results = await run_all(*(trigger(f"a{i}") for i in range(10)))

    assert all(events[0]["status"] == "success" for events in results)
    lists = [call for call in api.calls if call.startswith("list")]
    assert lists[:3] == ["list 0", "list 0", "list 0"]  # one list call per round, not one per wait
    assert len(api.calls) - len(lists) <= SPOT_CHECKS * len(lists)  # and the spot checks
    assert 2 * INTERVAL * 0.9 <= slept[0] <= 2 * INTERVAL * 1.1  # doubled after one failing round
    assert 4 * INTERVAL * 0.9 <= slept[1] <= 4 * INTERVAL * 1.1  # and again after the next
    assert slept[2] <= INTERVAL * 1.1  # back to the interval once a round succeeds


async def test_two_connections_are_kept_apart(apis: dict[str, FakeApi]) -> None:
    apis["one"] = one = FakeApi({"a": ["processing", "succeeded"]})
    apis["two"] = two = FakeApi({"b": ["processing", "succeeded"]}, listed=False)

    results = await run_all(trigger("a", "one"), trigger("b", "two"))

    assert [events[0]["status"] for events in results] == ["success", "success"]
    assert not any("b" in call for call in one.calls)
    assert not any(" a" in call for call in two.calls)
    assert one.closed == two.closed == 1


async def test_each_trigger_fires_exactly_once_even_for_the_same_artwork(apis: dict[str, FakeApi]) -> None:
    apis["tengr_default"] = FakeApi({"a": ["starting", "processing", "succeeded"]})

    results = await run_all(trigger("a"), trigger("a"), trigger("a"))

    assert [len(events) for events in results] == [1, 1, 1]
    assert {events[0]["status"] for events in results} == {"success"}


async def test_a_round_that_ends_many_waits_resolves_them_a_slice_per_loop_iteration(
    apis: dict[str, FakeApi],
) -> None:
    count = 2 * RESOLVE_SLICE + 50
    ids = [f"a{i}" for i in range(count)]
    apis["tengr_default"] = FakeApi({i: ["succeeded"] for i in ids})
    loop_iteration = 0
    resolved_in: list[int] = []

    async def count_iterations() -> None:
        nonlocal loop_iteration
        while True:
            await asyncio.sleep(0)
            loop_iteration += 1

    async def wait_and_note(t: TengrArtworkTrigger) -> list[dict[str, Any]]:
        events = await events_of(t)
        resolved_in.append(loop_iteration)
        return events

    counter = asyncio.create_task(count_iterations())
    try:
        results = await asyncio.gather(*(wait_and_note(trigger(i)) for i in ids))
    finally:
        counter.cancel()

    assert [events[0]["status"] for events in results] == ["success"] * count
    per_iteration = Counter(resolved_in)
    assert len(per_iteration) >= 3  # 250 waits: three slices, each let run before the next
    assert max(per_iteration.values()) <= RESOLVE_SLICE


async def test_the_deadline_ends_a_coalesced_wait_with_the_last_status(apis: dict[str, FakeApi]) -> None:
    apis["tengr_default"] = FakeApi({"a": ["processing"]})

    (events,) = await run_all(trigger("a", end_time=time.time() + 0.1))

    assert [e["status"] for e in events] == ["timeout"]
    assert events[0]["artwork"]["status"] == "processing"
    assert not pollers()  # the last wait left: the poller stopped at once


def test_page_budget_covers_the_waits_plus_a_margin() -> None:
    assert page_budget(1) == 1 + _poller.EXTRA_PAGES
    assert page_budget(PAGE_LIMIT * 20) == 20 + _poller.EXTRA_PAGES


def test_coalesce_is_serialized_only_when_off() -> None:
    assert "coalesce" not in TengrArtworkTrigger("a").serialize()[1]
    _, kwargs = TengrArtworkTrigger("a", coalesce=False).serialize()
    assert kwargs["coalesce"] is False
    assert TengrArtworkTrigger(**kwargs).coalesce is False


async def test_through_the_async_hook_list_then_per_id_for_what_the_list_missed(
    tengr_connection: str,
) -> None:
    mine = [f"mine{i}" for i in range(SPOT_CHECKS + 1)]
    others = [{"id": f"other{i}", "status": "done", "results": []} for i in range(3)]
    with aioresponses() as http:
        http.get(f"{BASE_URL}/v1/artworks?offset=0&limit={PAGE_LIMIT}", payload=others)
        for i in mine:
            http.get(f"{BASE_URL}/v1/artworks/{i}", payload={"id": i, "status": "succeeded", "results": [i]})

        deadline = time.time() + 30
        results = await run_all(*(TengrArtworkTrigger(i, tengr_connection, end_time=deadline) for i in mine))

        requests = sorted(str(url) for (_, url) in http.requests)
    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(mine)
    assert [events[0]["artwork"]["results"] for events in results] == [[i] for i in mine]
    # The spot checks read two by id, the list misses the third, which is then read by id too.
    assert requests == [
        *(f"{BASE_URL}/v1/artworks/{i}" for i in mine),
        f"{BASE_URL}/v1/artworks?limit={PAGE_LIMIT}&offset=0",
    ]


async def test_a_401_on_the_list_ends_every_wait_with_its_message(apis: dict[str, FakeApi]) -> None:
    ids = ["a", "b", "c"]
    apis["tengr_default"] = api = FakeApi({i: ["processing"] for i in ids})
    api.failures = [TengrAuthError(401, "Unauthorized", method="GET", path="/v1/artworks")]

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["error"]] * len(ids)
    assert all("Unauthorized" in events[0]["message"] for events in results)
    assert [call for call in api.calls if call.startswith("list")] == ["list 0"]


async def test_a_list_answer_it_cannot_read_falls_back_to_per_id_reads(apis: dict[str, FakeApi]) -> None:
    ids = ["a", "b", "c"]
    apis["tengr_default"] = api = FakeApi({i: ["succeeded"] for i in ids})
    api.failures = [
        TengrApiError(None, "unexpected answer, not a Artwork", method="GET", path="/v1/artworks")
    ]

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert sorted(api.calls) == ["get a", "get b", "get c", "list 0"]


def said_above_debug(text: str, phrase: str) -> int:
    """How often ``phrase`` was logged above debug level, per logging stack.

    The poller says a thing once, then only at debug. Airflow 3.0 logs through the standard library and
    prints the same record to stderr too, so ``text`` (both stacks) holds each line twice there; a line
    of the standard library starts with its level name, one of structlog carries it in brackets.
    """
    lines = [line for line in text.splitlines() if phrase in line]
    above_debug = [line for line in lines if "debug" not in line.split(phrase)[0].lower()]
    stdlib = [line for line in above_debug if line.startswith(("WARNING", "ERROR", "INFO"))]
    return max(len(stdlib), len(above_debug) - len(stdlib))


async def test_a_list_that_refuses_the_page_size_falls_back_to_per_id_reads(
    apis: dict[str, FakeApi], logs: LogText
) -> None:
    ids = ["a", "b", "c", "d"]
    apis["tengr_default"] = api = FakeApi({i: ["processing", "succeeded"] for i in ids})
    refused = TengrBadRequestError(
        400, ["limit must not be greater than 100"], method="GET", path="/v1/artworks"
    )
    api.failures = [refused, refused]

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert said_above_debug(logs(), "list unusable") == 1  # said once, then quietly read by id


async def test_the_hook_is_closed_even_when_the_last_wait_leaves_while_it_closes(
    apis: dict[str, FakeApi],
) -> None:
    class SlowToClose(FakeApi):
        async def close(self) -> None:
            await asyncio.sleep(0.02)  # the waits resume and unregister meanwhile
            self.closed += 1

    apis["tengr_default"] = api = SlowToClose({"a": ["succeeded"], "b": ["succeeded"]})

    await run_all(trigger("a"), trigger("b"))
    await asyncio.sleep(0.05)

    assert api.closed == 1


class LaggingListApi:
    """An account whose artwork reads tell the truth while its list shows some statuses frozen.

    Rounds are counted by list calls: artwork ``i`` has ended once ``finish[i]`` rounds have listed
    (``None``: it never ends); the list shows an id of ``frozen`` as ``processing`` forever.
    """

    def __init__(self, finish: dict[str, int | None], frozen: set[str]) -> None:
        self.finish = finish
        self.frozen = frozen
        self.lists = 0
        self.gets: list[str] = []

    def _status(self, artwork_id: str) -> str:
        end = self.finish[artwork_id]
        return "succeeded" if end is not None and self.lists >= end else "processing"

    async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        self.lists += 1
        return [
            Artwork(id=i, status="processing" if i in self.frozen else self._status(i))  # type: ignore[arg-type]
            for i in list(self.finish)[offset : offset + limit]
        ]

    async def get_artwork(self, artwork_id: str) -> Artwork:
        self.gets.append(artwork_id)
        return Artwork(id=artwork_id, status=self._status(artwork_id))  # type: ignore[arg-type]

    async def close(self) -> None:
        pass


@pytest.fixture
def lagging(monkeypatch: pytest.MonkeyPatch) -> Callable[..., LaggingListApi]:
    """Install a :class:`LaggingListApi` as every trigger's hook."""

    def install(finish: dict[str, int | None], frozen: set[str]) -> LaggingListApi:
        api = LaggingListApi(finish, frozen)
        monkeypatch.setattr(TengrArtworkTrigger, "_hook", lambda self: api)
        return api

    return install


async def test_a_list_that_never_shows_the_end_still_ends_every_wait(
    lagging: Callable[..., LaggingListApi], logs: LogText
) -> None:
    ids = [f"a{i}" for i in range(12)]
    api = lagging(dict.fromkeys(ids, 2), frozen=set(ids))

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert api.lists <= 5  # ended two or three rounds late, not at the deadline
    assert said_above_debug(logs(), "the list lags behind") == 1  # said once


async def test_a_stuck_wait_is_spot_checked_first_so_one_frozen_entry_cannot_hang(
    lagging: Callable[..., LaggingListApi],
) -> None:
    running = {f"long{i}": None for i in range(20)}  # in flight all along, and listed so: truthful
    api = lagging({**running, "ghost": 1}, frozen={"ghost"})  # ended in round 1; the list never says so
    waits = {i: asyncio.ensure_future(events_of(trigger(i))) for i in [*running, "ghost"]}

    events = await asyncio.wait_for(waits.pop("ghost"), timeout=10)

    assert [e["status"] for e in events] == ["success"]
    assert api.lists <= STUCK_ROUNDS + len(running) // SPOT_CHECKS + 3
    assert not any(wait.done() for wait in waits.values())  # the running ones still wait
    for wait in waits.values():
        wait.cancel()
    await asyncio.gather(*waits.values(), return_exceptions=True)


async def test_a_truthful_list_costs_the_spot_checks_only(
    lagging: Callable[..., LaggingListApi], logs: LogText
) -> None:
    ids = [f"a{i}" for i in range(40)]
    api = lagging(dict.fromkeys(ids, 4), frozen=set())

    results = await run_all(*(trigger(i) for i in ids))

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert api.lists == 4
    assert len(api.gets) == SPOT_CHECKS * api.lists  # a few reads a round, not one per wait
    assert "lags behind" not in logs()


async def test_waits_end_against_an_emulator_whose_list_is_stale(
    tengr_emulator_factory: Callable[..., TengrEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = tengr_emulator_factory(processing_seconds=0.2, list_staleness=60)
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", emulator.connection_json)
    ids = [create_photo_pilot(emulator) for _ in range(SPOT_CHECKS + 3)]

    results = await asyncio.wait_for(
        run_all(*(TengrArtworkTrigger(i, poll_interval=0.05, end_time=time.time() + 30) for i in ids)), 20
    )

    assert [[e["status"] for e in events] for events in results] == [["success"]] * len(ids)
    assert listed_statuses(emulator) == {"starting"}  # the list never showed them ending


def listed_statuses(emulator: TengrEmulator) -> set[str]:
    answer = requests.get(
        f"{emulator.url}/v1/artworks", headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=10
    )
    return {artwork["status"] for artwork in answer.json()}


def create_photo_pilot(emulator: TengrEmulator) -> str:
    body = {"imageUrl": emulator.sample_image_url(), "imageGuidance": 2, "modification": 1, "creativity": 1}
    answer = requests.post(
        f"{emulator.url}/v1/artworks/photo-pilot",
        json={**body, "effort": 1},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])
