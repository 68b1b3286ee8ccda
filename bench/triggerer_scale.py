"""Benchmark 2: how many artwork waits one triggerer process holds, and what they cost it.

For each case (``kind:count``) an emulator runs in its own process (``tengr-emulator``), ``count``
artworks are created, and a fresh child process runs ``count`` triggers in one asyncio event loop as
Airflow's triggerer does (rebuilt from their serialized form, one greenback portal each, iterated to
the end). The child reports its CPU seconds and peak RSS, the event loop's lag (a coroutine that
sleeps 0.1 s in a loop and records how late it wakes) and how many events each trigger fired.

A case is ``kind:count`` or ``kind:count:order``, where ``order`` is the emulator's ``--list-order``
(``newest`` by default, as the API; ``shuffled`` or ``oldest`` to break the coalesced poller's
assumption and measure its per-id fallback).

Kinds:

- ``tengr``: ``TengrArtworkTrigger`` as the provider ships it: every wait of the loop shares one
  status poller that reads pages of ``GET /v1/artworks`` (``tengr_provider.triggers._poller``).
- ``tengr-per-id``: ``TengrArtworkTrigger(coalesce=False)``: each trigger polls
  ``GET /v1/artworks/{id}`` on its own (the provider's behaviour before the shared poller).
- ``http``: providers-http's ``HttpSensorTrigger`` (what ``HttpSensor(deferrable=True)`` defers to).
  It can only wait for an answer that is not 404, so it polls the artwork's result file, which
  404s until the artwork succeeds: the one way providers-http can wait for an artwork in the
  triggerer. (``HttpTrigger`` sends one request and fires, so it cannot wait at all.)
- ``tengr-shared``: an experiment, not shipped behaviour: ``tengr-per-id`` with every
  ``TengrAsyncHook`` in the process sharing one aiohttp session, to measure what per-trigger
  sessions cost.

    python -m bench.triggerer_scale                           # per-id and coalesced, 1,000 to 10,000
    python -m bench.triggerer_scale --cases tengr:10000,tengr:10000:shuffled
    python -m bench.triggerer_scale --cases tengr:10000 --list-staleness 20   # a list 20 s behind
    python -m bench.triggerer_scale --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from bench._common import (
    HTTP_CONN_ID,
    TENGR_CONN_ID,
    base_parser,
    cpu_seconds,
    create_artworks,
    emit,
    emulator_process,
    http_connection_json,
    isolate_airflow,
    parse_result_line,
    peak_rss_mib,
    percentile,
    print_table,
    rss_mib,
    target,
    tengr_connection_json,
)
from tengr_provider.testing.config import LIST_ORDERS

KINDS = ("tengr", "tengr-per-id", "http", "tengr-shared")
DEFAULT_CASES = (
    "tengr-per-id:1000,tengr:1000,tengr-per-id:5000,tengr:5000,tengr-per-id:10000,tengr:10000,"
    "tengr:10000:shuffled"
)
LAG_INTERVAL = 0.1


# -- the child: one event loop full of triggers ------------------------------------------------------


def _serialized_trigger(
    kind: str, artwork_id: str, poll: float, end_time: float
) -> tuple[str, dict[str, Any]]:
    if kind == "http":
        from airflow.providers.http.triggers.http import HttpSensorTrigger

        return HttpSensorTrigger(
            endpoint=f"files/{artwork_id}_0.png",
            http_conn_id=HTTP_CONN_ID,
            method="GET",
            poke_interval=poll,
        ).serialize()
    from tengr_provider.triggers.artwork import TengrArtworkTrigger

    return TengrArtworkTrigger(
        artwork_id=artwork_id,
        tengr_conn_id=TENGR_CONN_ID,
        poll_interval=poll,
        end_time=end_time,
        coalesce=kind == "tengr",
    ).serialize()


def share_one_session() -> None:
    """The experiment behind ``tengr-shared``: every TengrAsyncHook reuses one aiohttp session.

    Patched here, in the benchmark's child process only, to measure the fix before proposing it.
    """
    import aiohttp

    from tengr_provider.hooks.tengr import TengrAsyncHook

    shared: list[aiohttp.ClientSession] = []

    async def get_session(self: TengrAsyncHook, settings: Any) -> aiohttp.ClientSession:
        if not shared or shared[0].closed:
            shared[:] = [
                aiohttp.ClientSession(
                    headers=settings.headers(), timeout=aiohttp.ClientTimeout(total=settings.timeout)
                )
            ]
        return shared[0]

    async def close(self: TengrAsyncHook) -> None:
        """The shared session outlives each hook."""

    TengrAsyncHook._get_session = get_session  # type: ignore[method-assign]
    TengrAsyncHook.close = close  # type: ignore[method-assign]


async def _lag_monitor(stop: asyncio.Event, lags: list[float]) -> None:
    """Sleep 0.1 s again and again; how late each wake-up comes is the loop's lag."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(LAG_INTERVAL)
        lags.append(time.perf_counter() - started - LAG_INTERVAL)


async def _hold(kind: str, ids: list[str], poll: float, deadline: float) -> dict[str, Any]:
    from bench._worker import run_trigger, through_serde

    end_time = time.time() + deadline
    serialized = [_serialized_trigger(kind, artwork_id, poll, end_time) for artwork_id in ids]
    serialized = [(classpath, through_serde(kwargs)) for classpath, kwargs in serialized]
    lags: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(_lag_monitor(stop, lags))
    cpu_before, started = cpu_seconds(), time.perf_counter()
    tasks = [asyncio.create_task(run_trigger(classpath, kwargs)) for classpath, kwargs in serialized]
    _, pending = await asyncio.wait(tasks, timeout=deadline)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await monitor
    fired: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    crashed = 0
    for task in tasks:
        if task in pending or task.exception() is not None:
            crashed += task not in pending
            fired[0] += 1
            continue
        events = task.result()
        fired[len(events)] += 1
        for payload in events:
            outcomes[str(payload.get("status") if isinstance(payload, dict) else payload)] += 1
    return {
        "triggers": len(ids),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "cpu_percent_of_one_core": 100 * cpu / wall,
        "lag_ms_p50": 1000 * percentile(lags, 0.50),
        "lag_ms_p99": 1000 * percentile(lags, 0.99),
        "lag_ms_max": 1000 * max(lags, default=float("nan")),
        "events_per_trigger": {str(count): n for count, n in sorted(fired.items())},
        "fired_exactly_once": fired[1] == len(ids),
        "event_outcomes": dict(outcomes),
        "timed_out": len(pending),
        "crashed": crashed,
    }


def run_child(kind: str, base_url: str, count: int, poll: float, deadline: float) -> None:
    """The measured process: imports, artworks, a baseline, then every trigger in one event loop.

    The artworks are created here, just before the triggers start, so each trigger waits about the
    full artwork time (the parent's clock would include this process's start-up).
    """
    from bench._worker import preload

    preload(
        "aiohttp",
        "tengr_provider.triggers.artwork",
        "airflow.providers.http.triggers.http",
        "airflow.providers.http.hooks.http",
    )
    if kind == "tengr-shared":
        share_one_session()
    created = time.perf_counter()
    ids = create_artworks(base_url, count)
    create_seconds = time.perf_counter() - created
    gc.collect()
    baseline = rss_mib()
    result = asyncio.run(_hold(kind, ids, poll, deadline))
    peak = peak_rss_mib()
    result.update(
        {
            "kind": kind,
            "create_seconds": create_seconds,
            "rss_mib_before_triggers": baseline,
            "peak_rss_mib": peak,
            "rss_kib_per_trigger": 1024 * (peak - baseline) / len(ids),
        }
    )
    emit("triggerer_scale_child", result)


# -- the parent: one emulator and one child per case ------------------------------------------------


def run_case(
    kind: str, count: int, order: str, artwork_seconds: float, poll: float, staleness: float = 0.0
) -> dict[str, Any]:
    """Hold ``count`` artworks of a fresh emulator in a fresh child process; count the emulator's reads.

    :param staleness: the emulator's ``--list-staleness``: its list shows statuses that many seconds old.
    """
    options = ("--processing-seconds", str(artwork_seconds), "--list-order", order)
    options += ("--list-staleness", str(staleness))
    with emulator_process(*options) as emulator:
        deadline = artwork_seconds + 4 * poll + 60
        env = {
            **os.environ,
            f"AIRFLOW_CONN_{TENGR_CONN_ID.upper()}": tengr_connection_json(emulator.url),
            f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}": http_connection_json(emulator.url),
        }
        command = [sys.executable, "-m", "bench.triggerer_scale", "--child", kind, "--base-url", emulator.url]
        command += ["--count", str(count), "--poll", str(poll), "--deadline", str(deadline)]
        child = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=deadline + 300, check=False
        )
        if child.returncode != 0:
            raise RuntimeError(f"trigger child {kind}:{count} failed:\n{child.stdout}\n{child.stderr}")
        result = parse_result_line(child.stdout, "triggerer_scale_child")
        stats = emulator.stats()
    reads = sum(
        sum(by_status.values())
        for route, by_status in stats["requests"].items()
        if route.startswith(("GET /v1/artworks", "GET /files/"))
    )
    result.pop("machine", None)
    result.pop("benchmark", None)
    # A wait lasts about ``artwork_seconds``: that many intervals of ``poll`` seconds.
    intervals = max(1.0, artwork_seconds / poll)
    result.update(
        {
            "list_order": order,
            "list_staleness": staleness,
            "requests_per_trigger": reads / count,
            "calls_per_wait_per_interval": reads / count / intervals,
            "list_calls": stats["requests"].get("GET /v1/artworks", {}).get("200", 0),
            "artwork_seconds": artwork_seconds,
            "poll": poll,
        }
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="kind:count[:list order],...")
    parser.add_argument("--artwork-seconds", type=float, default=60.0, help="how long each artwork takes")
    parser.add_argument("--poll", type=float, default=10.0, help="trigger poll interval, seconds")
    parser.add_argument(
        "--list-staleness", type=float, default=0.0, help="seconds the emulator's list lags (a stale list)"
    )
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.base_url, args.count, args.poll, args.deadline)
        return
    if args.smoke:
        args.cases, args.artwork_seconds, args.poll = (
            "tengr:20,tengr-per-id:20,http:20,tengr:20:shuffled",
            1.0,
            0.3,
        )
    cases = [_case(parser, case) for case in args.cases.split(",")]

    isolate_airflow("triggerer-scale")
    started = time.perf_counter()
    results = [
        run_case(kind, count, order, args.artwork_seconds, args.poll, args.list_staleness)
        for kind, count, order in cases
    ]
    print_table(
        f"Triggerer scale: artworks of {args.artwork_seconds:g} s, poll every {args.poll:g} s, "
        "one event loop per process",
        [
            "triggers",
            "count",
            "list order",
            "list lag s",
            "fired exactly once",
            "CPU s",
            "% of one core",
            "peak RSS MiB",
            "RSS before triggers MiB",
            "KiB / trigger",
            "loop lag p50 ms",
            "loop lag p99 ms",
            "lag max ms",
            "requests / trigger",
            "calls / wait / interval",
            "wall s",
        ],
        [
            [
                r["kind"],
                r["triggers"],
                r["list_order"],
                r["list_staleness"],
                r["fired_exactly_once"],
                r["cpu_seconds"],
                r["cpu_percent_of_one_core"],
                r["peak_rss_mib"],
                r["rss_mib_before_triggers"],
                r["rss_kib_per_trigger"],
                r["lag_ms_p50"],
                r["lag_ms_p99"],
                r["lag_ms_max"],
                r["requests_per_trigger"],
                r["calls_per_wait_per_interval"],
                r["wall_seconds"],
            ]
            for r in results
        ],
    )
    emit(
        "triggerer_scale",
        {
            "settings": {
                "cases": args.cases,
                "artwork_seconds": args.artwork_seconds,
                "poll": args.poll,
                "list_staleness": args.list_staleness,
                "smoke": args.smoke,
            },
            "cases": results,
            "targets": _targets(results),
            "wall_seconds": time.perf_counter() - started,
        },
    )


def _case(parser: argparse.ArgumentParser, case: str) -> tuple[str, int, str]:
    """``kind:count[:order]`` read and checked, naming the bad part."""
    kind, count, order = [*case.split(":"), "newest"][:3]
    if kind not in KINDS:
        parser.error(f"--cases: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if order not in LIST_ORDERS:
        parser.error(f"--cases: unknown list order {order!r} (one of {', '.join(LIST_ORDERS)})")
    return kind, int(count), order


def _targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, judged on the largest coalesced case in the assumed (newest-first) order."""
    coalesced = [
        r for r in results if r["kind"] == "tengr" and r["list_order"] == "newest" and not r["list_staleness"]
    ]
    if not coalesced:
        return {}
    top = max(coalesced, key=lambda r: r["triggers"])
    n = f"{top['triggers']:,} waits"
    return {
        "cpu_percent": target(f"{n} under 10% of one core", top["cpu_percent_of_one_core"], 10.0),
        "peak_rss_mib": target(f"{n} under 400 MB RSS", top["peak_rss_mib"], 400.0),
        "lag_p99_ms": target(f"{n}: loop lag p99 under 50 ms", top["lag_ms_p99"], 50.0),
        "calls_per_wait": target(
            f"{n}: at most 0.05 API calls per wait per interval", top["calls_per_wait_per_interval"], 0.05
        ),
        "fired_once": target(
            "every trigger of every case fires exactly once",
            float(sum(not r["fired_exactly_once"] for r in results)),
            0.0,
        ),
    }


if __name__ == "__main__":
    main()
