"""Injected faults: what each one answers, whether it creates anything, and that a seed replays it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api, ApiFactory, EmulatorFactory, wait_for_status

from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.1)
EXTERNAL = "https://images.example.com/a.png"


def statuses(api: Api, count: int) -> list[int]:
    """Status codes of ``count`` sequential ``GET /v1/artworks`` calls."""
    return [api.get("/v1/artworks").status_code for _ in range(count)]


@pytest.mark.tengr_emulator(rate_limit=2)
def test_rate_limit_answers_429_with_an_integer_retry_after(api: Api) -> None:
    answers = [api.get("/v1/artworks") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 429, 429]
    limited = answers[2]
    assert limited.json() == {"message": "ThrottlerException: Too Many Requests", "statusCode": 429}
    assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.tengr_emulator(rate_limit=2, rate_limit_retry_after=False)
def test_rate_limit_can_answer_429_without_retry_after(api: Api) -> None:
    answers = [api.get("/v1/artworks") for _ in range(3)]

    assert answers[-1].status_code == 429
    assert "Retry-After" not in answers[-1].headers


@pytest.mark.tengr_emulator(rate_limit=20)
def test_rate_limit_lets_requests_through_again_after_the_wait(api: Api) -> None:
    # Bounded: a limiter that never refuses fails here instead of spinning until the suite's timeout.
    first_refusal = next(
        (number for number in range(1, 200) if api.get("/v1/artworks").status_code == 429), None
    )
    assert first_refusal is not None, "the rate limit never answered 429"

    time.sleep(1 / 20 + 0.02)

    assert api.get("/v1/artworks").status_code == 200


@pytest.mark.tengr_emulator(rate_limit=1)
def test_rate_limit_spares_files_samples_and_stats(api: Api, tengr_emulator: TengrEmulator) -> None:
    api.get("/v1/artworks")
    assert api.get("/v1/artworks").status_code == 429

    assert api.get(tengr_emulator.sample_image_url()).status_code == 200
    assert api.get("/_emulator/stats").status_code == 200


def test_throttle_rate_answers_a_seeded_share_of_429_with_retry_after(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    apis = [api_for(tengr_emulator_factory(throttle_rate=0.3, seed=7)) for _ in range(2)]
    answers = [[api.get("/v1/artworks") for _ in range(60)] for api in apis]

    runs = [[answer.status_code for answer in run] for run in answers]
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 429}
    assert 5 <= runs[0].count(429) <= 35
    limited = [answer for answer in answers[0] if answer.status_code == 429]
    assert {answer.headers["Retry-After"] for answer in limited} == {"1"}
    assert limited[0].json() == {"message": "ThrottlerException: Too Many Requests", "statusCode": 429}


@pytest.mark.tengr_emulator(throttle_rate=1.0, rate_limit_retry_after=False)
def test_throttle_rate_can_answer_without_retry_after_and_creates_nothing(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    answers = [api.photo_pilot(), api.upscale(EXTERNAL), api.style_dna()]

    assert [answer.status_code for answer in answers] == [429, 429, 429]
    assert not [answer for answer in answers if "Retry-After" in answer.headers]
    assert tengr_emulator.stats().artworks_created == 0


def test_error_rate_answers_a_seeded_share_of_500_502_503(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    runs = [statuses(api_for(tengr_emulator_factory(error_rate=0.3, seed=7)), 60) for _ in range(2)]
    other_seed = statuses(api_for(tengr_emulator_factory(error_rate=0.3, seed=8)), 60)

    assert runs[0] == runs[1]
    assert runs[0] != other_seed
    counts = Counter(runs[0])
    assert set(counts) <= {200, 500, 502, 503}
    assert 5 <= sum(counts[code] for code in (500, 502, 503)) <= 35
    assert len({code for code in counts if code >= 500}) >= 2


@pytest.mark.tengr_emulator(error_rate=1.0)
def test_error_rate_fails_before_anything_is_created(api: Api, tengr_emulator: TengrEmulator) -> None:
    answers = [api.photo_pilot(), api.upscale(EXTERNAL), api.style_dna()]

    assert {answer.status_code for answer in answers} <= {500, 502, 503}
    assert answers[0].json()["statusCode"] == answers[0].status_code
    assert tengr_emulator.stats().artworks_created == 0


@pytest.mark.tengr_emulator(error_rate=1.0, credits=1)
def test_error_rate_spends_no_credit(tengr_emulator: TengrEmulator, api: Api) -> None:
    api.photo_pilot()

    assert tengr_emulator.stats().credits_remaining == 1


@pytest.mark.tengr_emulator(gateway_timeout_rate=1.0)
def test_gateway_timeout_answers_504_after_the_work_is_done(api: Api, tengr_emulator: TengrEmulator) -> None:
    answers = [api.upscale(EXTERNAL), api.style_dna()]

    assert [answer.status_code for answer in answers] == [504, 504]
    assert answers[0].json() == {"message": "Gateway Timeout", "error": "Gateway Timeout", "statusCode": 504}
    stats = tengr_emulator.stats()
    assert stats.artworks_created_by_type == {"upscaling": 1, "style_dna": 1}
    assert stats.count("POST /v1/artworks/upscaling", 504) == 1
    upscaled = stats.artworks[0].id
    assert api.artwork(upscaled).json()["status"] == "done"  # the client never learnt this id


@pytest.mark.tengr_emulator(gateway_timeout_rate=1.0, credits=2)
def test_gateway_timeout_still_spends_the_credit(api: Api, tengr_emulator: TengrEmulator) -> None:
    api.upscale(EXTERNAL)
    api.upscale(EXTERNAL)  # the "retry"

    assert tengr_emulator.stats().credits_remaining == 0
    assert tengr_emulator.stats().artworks_created == 2


@pytest.mark.tengr_emulator(gateway_timeout_rate=1.0)
def test_gateway_timeout_spares_the_asynchronous_routes(api: Api) -> None:
    assert api.photo_pilot().status_code == 202
    assert api.get("/v1/artworks").status_code == 200


@pytest.mark.tengr_emulator(latency=0.2)
def test_latency_delays_every_api_request(api: Api, tengr_emulator: TengrEmulator) -> None:
    started = time.perf_counter()
    assert api.get("/v1/artworks").status_code == 200
    delayed = time.perf_counter() - started

    started = time.perf_counter()
    api.get(tengr_emulator.sample_image_url("tiny", width=8, height=8))
    undelayed = time.perf_counter() - started

    assert delayed >= 0.2
    assert undelayed < 0.2


@pytest.mark.tengr_emulator(latency=0.1, latency_rate=0.5, seed=3)
def test_latency_rate_delays_only_a_share(api: Api) -> None:
    durations = []
    for _ in range(12):
        started = time.perf_counter()
        api.get("/v1/artworks")
        durations.append(time.perf_counter() - started)

    slow = sum(duration >= 0.1 for duration in durations)
    assert 1 <= slow <= 11


@pytest.mark.tengr_emulator(drop_rate=1.0)
def test_drop_closes_the_connection_without_an_answer(api: Api, tengr_emulator: TengrEmulator) -> None:
    with pytest.raises(requests.ConnectionError):
        api.get("/v1/artworks")

    assert tengr_emulator.stats().requests == {"GET /v1/artworks": {"dropped": 1}}


@pytest.mark.tengr_emulator(drop_rate=0.5, seed=1)
def test_dropped_requests_are_a_seeded_share_and_do_not_break_the_server(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    outcomes: list[int | str] = []
    for _ in range(20):
        try:
            outcomes.append(api.get("/v1/artworks").status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")

    counted = tengr_emulator.stats().requests["GET /v1/artworks"]
    assert counted == {str(key): value for key, value in Counter(outcomes).items()}
    assert 0 < counted["dropped"] < 20


@pytest.mark.tengr_emulator(failure_rate=1.0)
def test_failure_rate_ends_artworks_failed_with_no_results(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    artwork = wait_for_status(api, artwork_id, {"failed", "succeeded", "canceled"})

    assert artwork["status"] == "failed"
    assert artwork["results"] == []
    assert api.get(f"/files/{artwork_id}_0.png").status_code == 404


@pytest.mark.tengr_emulator(cancel_rate=1.0)
def test_cancel_rate_ends_artworks_canceled(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    assert wait_for_status(api, artwork_id, {"failed", "succeeded", "canceled"})["status"] == "canceled"


@pytest.mark.tengr_emulator(failure_rate=1.0)
def test_failure_rate_answers_upscaling_failed_at_once(api: Api) -> None:
    artwork = api.upscale(EXTERNAL).json()

    assert (artwork["status"], artwork["results"]) == ("failed", [])


def test_failed_and_canceled_shares_replay_with_the_seed(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    def final_statuses(seed: int) -> list[str]:
        api = api_for(
            tengr_emulator_factory(processing_seconds=0, failure_rate=0.3, cancel_rate=0.3, seed=seed)
        )
        ids = [api.photo_pilot().json()["id"] for _ in range(30)]
        return [api.artwork(artwork_id).json()["status"] for artwork_id in ids]

    first, again = final_statuses(5), final_statuses(5)

    assert first == again
    assert set(first) == {"succeeded", "failed", "canceled"}


@pytest.mark.tengr_emulator(error_rate=1.0, drop_rate=1.0, latency=5)
def test_faults_spare_files_samples_and_stats(api: Api, tengr_emulator: TengrEmulator) -> None:
    started = time.perf_counter()

    assert api.get(tengr_emulator.sample_image_url("s", width=16, height=16)).status_code == 200
    assert api.get("/_emulator/stats").status_code == 200
    assert time.perf_counter() - started < 5


@pytest.mark.tengr_emulator(latency=30)
def test_stop_ends_an_injected_delay_at_once(
    tengr_emulator: TengrEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Known, not hoped: the emulator tells us when it has decided to hold the request for 30 s.
    held = threading.Event()
    plan = tengr_emulator._faults
    decide_delay = plan.delay

    def delay_and_tell() -> float:
        seconds = decide_delay()
        if seconds:
            held.set()
        return seconds

    monkeypatch.setattr(plan, "delay", delay_and_tell)

    def slow_call() -> None:
        with contextlib.suppress(requests.RequestException):
            requests.get(tengr_emulator.url + "/v1/artworks", timeout=TIMEOUT)

    caller = threading.Thread(target=slow_call)
    caller.start()
    assert held.wait(TIMEOUT), "the request never reached the injected delay"
    started = time.perf_counter()

    tengr_emulator.stop()

    caller.join(TIMEOUT)
    assert time.perf_counter() - started < 5
    assert not caller.is_alive()
