"""Benchmark 2: how many artwork waits one triggerer process holds, and what they cost it.

For each case (``kind:count``) an emulator runs in its own process (``tengr-emulator``), ``count``
artworks are created, and a fresh child process runs ``count`` triggers in one asyncio event loop as
Airflow's triggerer does (rebuilt from their serialized form, one greenback portal each, iterated to
the end). The child reports its CPU seconds and peak RSS, the event loop's lag (a coroutine that
sleeps 0.1 s in a loop and records how late it wakes) and how many events each trigger fired.

Kinds:

- ``tengr``: ``TengrArtworkTrigger`` polling ``GET /v1/artworks/{id}``, as the provider ships it.
- ``http``: providers-http's ``HttpSensorTrigger`` (what ``HttpSensor(deferrable=True)`` defers to).
  It can only wait for an answer that is not 404, so it polls the artwork's result file, which
  404s until the artwork succeeds: the one way providers-http can wait for an artwork in the
  triggerer. (``HttpTrigger`` sends one request and fires, so it cannot wait at all.)
- ``tengr-shared``: an experiment, not shipped behaviour: ``TengrArtworkTrigger`` with every
  ``TengrAsyncHook`` in the process sharing one aiohttp session, to measure what per-trigger
  sessions cost.

    python -m bench.triggerer_scale                                  # tengr:1000,http:1000,tengr:5000
    python -m bench.triggerer_scale --cases tengr:1000,tengr-shared:1000
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

KINDS = ("tengr", "http", "tengr-shared")
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
        artwork_id=artwork_id, tengr_conn_id=TENGR_CONN_ID, poll_interval=poll, end_time=end_time
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


def run_case(kind: str, count: int, artwork_seconds: float, poll: float) -> dict[str, Any]:
    """Hold ``count`` artworks of a fresh emulator in a fresh child process; count the emulator's reads."""
    with emulator_process("--processing-seconds", str(artwork_seconds)) as emulator:
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
        if route.startswith(("GET /v1/artworks/{id}", "GET /files/"))
    )
    result.pop("machine", None)
    result.pop("benchmark", None)
    result.update({"requests_per_trigger": reads / count, "artwork_seconds": artwork_seconds, "poll": poll})
    return result


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--cases", default="tengr:1000,http:1000,tengr:5000", help="kind:count,...")
    parser.add_argument("--artwork-seconds", type=float, default=60.0, help="how long each artwork takes")
    parser.add_argument("--poll", type=float, default=10.0, help="trigger poll interval, seconds")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.base_url, args.count, args.poll, args.deadline)
        return
    if args.smoke:
        args.cases, args.artwork_seconds, args.poll = "tengr:20,http:20,tengr-shared:20", 1.0, 0.3
    cases = [(kind, int(count)) for kind, _, count in (case.partition(":") for case in args.cases.split(","))]
    for kind, _ in cases:
        if kind not in KINDS:
            parser.error(f"--cases: unknown kind {kind!r} (one of {', '.join(KINDS)})")

    isolate_airflow("triggerer-scale")
    started = time.perf_counter()
    results = [run_case(kind, count, args.artwork_seconds, args.poll) for kind, count in cases]
    print_table(
        f"Triggerer scale: artworks of {args.artwork_seconds:g} s, poll every {args.poll:g} s, "
        "one event loop per process",
        [
            "triggers",
            "count",
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
            "wall s",
        ],
        [
            [
                r["kind"],
                r["triggers"],
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
                r["wall_seconds"],
            ]
            for r in results
        ],
    )
    targets = {}
    headline = next((r for r in results if r["kind"] == "tengr" and r["triggers"] == 1000), None)
    if headline is not None:
        targets = {
            "cpu_percent": target(
                "1,000 triggers under 10% of one core", headline["cpu_percent_of_one_core"], 10.0
            ),
            "peak_rss_mib": target("1,000 triggers under 300 MB RSS", headline["peak_rss_mib"], 300.0),
            "fired_once": target(
                "1,000 triggers each fire exactly once", float(not headline["fired_exactly_once"]), 0.0
            ),
        }
    emit(
        "triggerer_scale",
        {
            "settings": {
                "cases": args.cases,
                "artwork_seconds": args.artwork_seconds,
                "poll": args.poll,
                "smoke": args.smoke,
            },
            "cases": results,
            "targets": targets,
            "wall_seconds": time.perf_counter() - started,
        },
    )


if __name__ == "__main__":
    main()
