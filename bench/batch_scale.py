"""Benchmark 5: N artworks in ONE batch task vs the same work as mapped deferrable tasks, side by side.

**Batch**: ``TengrBatchOperator(deferrable=True)`` over a JSONL file of N photo-pilot requests, against
an emulator limited to R requests per second. Each execution of the task (the first, each resumption)
runs in a fresh process, as a worker runs each one, and so does each trigger (the triggerer); every
process reports the CPU seconds of all its threads and its peak RSS around the work (interpreter
start-up and imports left out: a worker and a triggerer have them loaded). The trigger's event is held
for the settle time as shipped (``[tengr] requeue_settle_seconds``): the batch decides by it whether
to defer at all.

**Mapped**: ``max_map_length`` (1,000 by default) mapped ``TengrPhotoPilotOperator(deferrable=True)``
task instances through the harness of ``bench.batch_rate_limit`` (16 worker slots running the task
runner's calls, one triggerer event loop), against the same emulator settings; worker CPU is each
run's thread time, triggerer CPU the loop thread's. Every artwork costs two executions whatever N, so
the mapped figures for N are the 1,000's times N/1,000 (linear; N > 1,000 cannot be mapped at all with
the default ``max_map_length``, and the scheduler costs of thousands of mapped instances are not in it).

Targets (issue 24): <= 5 ms of Airflow CPU per artwork in the batch (worker + triggerer); 1 task
instance and <= N/max_in_flight + 2 executions; worker peak RSS flat in N (<= 300 MiB at 10,000, and
within 10% of the N_small run's); makespan <= 1.05x the rate limit's bound (N/R plus one artwork's
processing time); status calls <= 0.05 per artwork per poll interval; 0 duplicates, 0 lost.

    python -m bench.batch_scale                 # N=10,000 (and 1,000) at R=50/s; mapped 1,000
    python -m bench.batch_scale --smoke
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import (
    PHOTO_FIELDS,
    api_calls,
    base_parser,
    cpu_seconds,
    emit,
    emulator_process,
    isolate_airflow,
    peak_rss_mib,
    print_table,
    set_connections,
    target,
)

#: The parts of a JSON line a child process prints for the parent.
CHILD_PREFIX = "BATCH-SCALE-CHILD "


# -- the child processes: one execution of the batch task, or one trigger ------------------------------


def child_execution(spec: dict[str, Any]) -> dict[str, Any]:
    """One execution of the batch task (``execute``, or ``resume_execution`` with an event)."""
    from bench._worker import BenchTaskInstance, Deferral, preload, resume_as_task_runner
    from bench._worker import execute_as_task_runner as execute

    preload("tengr_provider.operators", "tengr_provider.triggers.batch")
    from tengr_provider.operators import TengrBatchOperator

    class BatchTaskInstance(BenchTaskInstance):
        dag_id, run_id, task_id, map_index = "bench_batch_scale", spec["run_id"], "batch", -1

    operator = TengrBatchOperator(
        task_id="batch",
        endpoint="photo-pilot",
        requests_path=spec["items"],
        output_path=spec["output_path"],
        max_in_flight=spec["max_in_flight"],
        poll_interval=spec["poll"],
        deferrable=True,
    )
    context = {"ti": BatchTaskInstance(), "task_state_store": None}
    rss_before = peak_rss_mib()
    started = cpu_seconds()
    if spec["event"] is None:
        outcome = execute(operator, context)
    else:
        deferral = Deferral("", {}, "execute_complete", spec["next_kwargs"])
        outcome = resume_as_task_runner(operator, deferral, spec["event"], context)
    report: dict[str, Any] = {
        "cpu_seconds": cpu_seconds() - started,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_work_mib": rss_before,
    }
    if outcome.deferral is not None:
        report["deferral"] = {
            "classpath": outcome.deferral.classpath,
            "kwargs": outcome.deferral.kwargs,
            "next_kwargs": outcome.deferral.next_kwargs,
        }
    elif outcome.error is not None:
        report["error"] = f"{type(outcome.error).__name__}: {outcome.error}"
    else:
        report["summary"] = outcome.value
    return report


def child_trigger(spec: dict[str, Any]) -> dict[str, Any]:
    """One trigger, run to its event in an event loop of its own, as the triggerer runs it."""
    import asyncio

    from bench._worker import preload, run_trigger

    preload("tengr_provider.triggers.batch")
    started = cpu_seconds()
    events = asyncio.run(run_trigger(spec["classpath"], spec["kwargs"]))
    return {"cpu_seconds": cpu_seconds() - started, "peak_rss_mib": peak_rss_mib(), "events": events}


def _child(role: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``python -m bench.batch_scale --child <role>`` with ``spec``; its one report."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.batch_scale", "--child", role],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith(CHILD_PREFIX):
            report: dict[str, Any] = json.loads(line[len(CHILD_PREFIX) :])
            return report
    raise RuntimeError(f"{role} process failed ({result.returncode}):\n{result.stderr[-3000:]}")


# -- the batch, driven like a scheduler would -------------------------------------------------------


def run_batch(
    base_url: str, artworks: int, max_in_flight: int, poll: float, deadline: float
) -> dict[str, Any]:
    """The batch task from its first execution to its summary; per-process CPU and RSS of each."""
    folder = Path(tempfile.mkdtemp(prefix="tengr-bench-batch-"))
    items = folder / "items.jsonl"
    with items.open("w") as out:
        for n in range(artworks):
            out.write(json.dumps({**PHOTO_FIELDS, "image_url": f"https://images.example.com/{n}.png"}) + "\n")
    spec: dict[str, Any] = {
        "items": items.as_uri(),
        "output_path": (folder / "out").as_uri(),
        "max_in_flight": max_in_flight,
        "poll": poll,
        "run_id": f"bench_{artworks}",
        "event": None,
        "next_kwargs": None,
    }
    executions: list[dict[str, Any]] = []
    triggers: list[dict[str, Any]] = []
    started = time.perf_counter()
    while True:
        report = _child("execution", spec, deadline)
        executions.append(report)
        if "deferral" not in report:
            break
        deferral = report["deferral"]
        fired = _child(
            "trigger", {"classpath": deferral["classpath"], "kwargs": deferral["kwargs"]}, deadline
        )
        triggers.append(fired)
        spec = {**spec, "event": fired["events"][0], "next_kwargs": deferral["next_kwargs"]}
    makespan = time.perf_counter() - started
    summary = report.get("summary") or {}
    stored = len(list((folder / "out").glob("*.png")))
    return {
        "makespan_seconds": makespan,
        "error": report.get("error"),
        "counts": summary.get("counts", {}),
        "files_stored": stored,
        "executions": len(executions),
        "worker_cpu_seconds": sum(e["cpu_seconds"] for e in executions),
        "triggerer_cpu_seconds": sum(t["cpu_seconds"] for t in triggers),
        "worker_peak_rss_mib": max(e["peak_rss_mib"] for e in executions),
        "worker_rss_before_work_mib": max(e["rss_before_work_mib"] for e in executions),
        "triggerer_peak_rss_mib": max((t["peak_rss_mib"] for t in triggers), default=0.0),
        "summary_bytes": len(json.dumps(summary)),
    }


def status_calls(stats: dict[str, Any]) -> int:
    """Artwork reads and list pages (every answer)."""
    return sum(
        sum(by_status.values())
        for route, by_status in stats["requests"].items()
        if route.startswith("GET /v1/artworks")
    )


def batch_row(
    artworks: int, rate: float, processing: float, poll: float, run: dict[str, Any], stats: dict[str, Any]
) -> dict[str, Any]:
    bound = artworks / rate + processing
    created = stats["artworksCreated"]
    calls = status_calls(stats)
    return {
        "harness": f"batch, N={artworks}",
        "artworks": artworks,
        **run,
        "cpu_ms_per_artwork": 1000 * (run["worker_cpu_seconds"] + run["triggerer_cpu_seconds"]) / artworks,
        "bound_seconds": bound,
        "makespan_over_bound": run["makespan_seconds"] / bound,
        "api_calls": api_calls(stats),
        "status_calls": calls,
        # Each artwork waits at least `processing` seconds: that many poll intervals, at least one.
        "status_calls_per_artwork_interval": calls / artworks / max(processing / poll, 1.0),
        "duplicates": max(created - artworks, 0),
        "lost": artworks - run["counts"].get("succeeded", 0),
    }


def run_mapped(
    base_url: str, artworks: int, poll: float, deadline: float, extrapolate_to: int
) -> dict[str, Any]:
    """The same work as ``artworks`` mapped deferrable tasks (16 slots, one triggerer loop)."""
    from bench.batch_rate_limit import run_concurrent

    run = run_concurrent(base_url, artworks, 16, poll, deadline)
    cpu = run["worker_cpu_seconds"] + run["triggerer_cpu_seconds"]
    factor = extrapolate_to / artworks
    return {
        "harness": f"mapped, N={artworks} (x{factor:g} for N={extrapolate_to})",
        "artworks": artworks,
        "makespan_seconds": run["makespan_seconds"],
        "executions": run["executions"],
        "task_failures": run["task_failures"],
        "worker_cpu_seconds": run["worker_cpu_seconds"],
        "triggerer_cpu_seconds": run["triggerer_cpu_seconds"],
        "cpu_ms_per_artwork": 1000 * cpu / artworks,
        "extrapolated_cpu_seconds": cpu * factor,
        "extrapolated_executions": run["executions"] * factor,
    }


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--child", choices=("execution", "trigger"), help=argparse_hidden())
    parser.add_argument("--artworks", type=int, default=10_000, help="N of the batch")
    parser.add_argument(
        "--small", type=int, default=1_000, help="N of the batch whose peak RSS N's is compared to"
    )
    parser.add_argument("--mapped", type=int, default=1_000, help="mapped task instances (0 skips)")
    parser.add_argument("--rate-limit", type=float, default=50.0, help="R, API requests per second")
    parser.add_argument("--processing-seconds", type=float, default=2.0, help="how long an artwork takes")
    parser.add_argument("--poll", type=float, default=2.0, help="poll_interval")
    parser.add_argument("--max-in-flight", type=int, default=500, help="max_in_flight")
    parser.add_argument(
        "--deferring",
        type=int,
        default=2_000,
        help="N of a third batch bound by max_in_flight, not by the rate (artworks of "
        "--deferring-seconds, longer than the settle time): it defers; 0 skips",
    )
    parser.add_argument("--deferring-seconds", type=float, default=16.0, help="its artworks' processing time")
    args = parser.parse_args(argv)
    if args.child:
        report = (child_execution if args.child == "execution" else child_trigger)(json.load(sys.stdin))
        print(CHILD_PREFIX + json.dumps(report), flush=True)
        return
    if args.smoke:
        # One small batch (a few processes: each pays Airflow's imports); the mapped harness is
        # bench.batch_rate_limit's, which its own smoke run covers.
        args.artworks, args.small, args.mapped, args.rate_limit = 20, 0, 0, 50.0
        args.processing_seconds, args.poll, args.max_in_flight = 0.3, 0.3, 16
        args.deferring = 0
        # The child processes read it from the configuration: --smoke checks the script, not numbers.
        os.environ["AIRFLOW__TENGR__REQUEUE_SETTLE_SECONDS"] = "0.5"

    isolate_airflow("batch_scale", log_level="ERROR")
    started = time.perf_counter()
    options = ("--processing-seconds", str(args.processing_seconds), "--rate-limit", str(args.rate_limit))
    deadline = 5 * (args.artworks / args.rate_limit + args.processing_seconds) + 300
    rows = []
    batches = [(args.artworks, args.processing_seconds)]
    if args.small:
        batches.insert(0, (args.small, args.processing_seconds))
    if args.deferring:
        batches.append((args.deferring, args.deferring_seconds))
    for artworks, processing in batches:
        batch_options = ("--processing-seconds", str(processing), "--rate-limit", str(args.rate_limit))
        with emulator_process(*batch_options) as emulator:
            set_connections(emulator.url)
            run = run_batch(emulator.url, artworks, args.max_in_flight, args.poll, deadline)
            stats = emulator.stats()
        rows.append(batch_row(artworks, args.rate_limit, processing, args.poll, run, stats))
    if args.deferring:
        rows[-1]["harness"] += f", {args.deferring_seconds:g}-s artworks (bound by max_in_flight)"
    mapped = None
    if args.mapped:
        with emulator_process(*options) as emulator:
            set_connections(emulator.url)
            mapped = run_mapped(emulator.url, args.mapped, args.poll, deadline, args.artworks)
    batch = rows[1] if args.small else rows[0]
    print_table(
        f"One batch task vs mapped tasks: photo-pilot artworks of {args.processing_seconds:g} s at "
        f"R = {args.rate_limit:g} req/s, poll {args.poll:g} s, max_in_flight {args.max_in_flight}",
        [
            "harness",
            "makespan s",
            "bound N/R+P s",
            "makespan / bound",
            "executions",
            "worker CPU s",
            "triggerer CPU s",
            "CPU ms / artwork",
            "worker peak RSS MiB",
            "status calls / artwork / interval",
            "duplicates",
            "lost",
        ],
        [
            [
                r["harness"],
                r["makespan_seconds"],
                r["bound_seconds"],
                r["makespan_over_bound"],
                r["executions"],
                r["worker_cpu_seconds"],
                r["triggerer_cpu_seconds"],
                r["cpu_ms_per_artwork"],
                r["worker_peak_rss_mib"],
                r["status_calls_per_artwork_interval"],
                r["duplicates"],
                r["lost"],
            ]
            for r in rows
        ]
        + (
            [
                [
                    mapped["harness"],
                    mapped["makespan_seconds"],
                    "",
                    "",
                    f"{mapped['executions']} (N={args.artworks}: {mapped['extrapolated_executions']:,.0f})",
                    mapped["worker_cpu_seconds"],
                    mapped["triggerer_cpu_seconds"],
                    mapped["cpu_ms_per_artwork"],
                    "",
                    "",
                    "",
                    mapped["task_failures"],
                ]
            ]
            if mapped
            else []
        ),
    )
    targets = {
        "cpu": target(
            "batch: Airflow CPU per artwork <= 5 ms (worker + triggerer)", batch["cpu_ms_per_artwork"], 5.0
        ),
        "executions": target(
            "batch: executions <= N / max_in_flight + 2",
            float(batch["executions"]),
            args.artworks / args.max_in_flight + 2,
        ),
        **(
            {
                "executions_deferring": target(
                    f"batch bound by max_in_flight (N={args.deferring}): executions <= N / max_in_flight + 2",
                    float(rows[-1]["executions"]),
                    args.deferring / args.max_in_flight + 2,
                ),
                "cpu_deferring": target(
                    f"batch bound by max_in_flight (N={args.deferring}): CPU per artwork <= 5 ms",
                    rows[-1]["cpu_ms_per_artwork"],
                    5.0,
                ),
            }
            if args.deferring
            else {}
        ),
        "rss": target("batch: worker peak RSS <= 300 MiB", batch["worker_peak_rss_mib"], 300.0),
        **(
            {
                "rss_flat": target(
                    f"batch: worker peak RSS at N={args.artworks} / at N={args.small} <= 1.1",
                    batch["worker_peak_rss_mib"] / rows[0]["worker_peak_rss_mib"],
                    1.1,
                )
            }
            if args.small
            else {}
        ),
        "makespan": target("batch: makespan <= 1.05x (N/R + P)", batch["makespan_over_bound"], 1.05),
        "status_calls": target(
            "batch: status calls per artwork per interval <= 0.05",
            batch["status_calls_per_artwork_interval"],
            0.05,
        ),
        "duplicates": target("batch: 0 duplicates", float(sum(row["duplicates"] for row in rows)), 0.0),
        "lost": target("batch: 0 lost", float(sum(row["lost"] for row in rows)), 0.0),
    }
    emit(
        "batch_scale",
        {
            "settings": {
                "artworks": args.artworks,
                "small": args.small,
                "mapped": args.mapped,
                "rate_limit": args.rate_limit,
                "processing_seconds": args.processing_seconds,
                "poll": args.poll,
                "max_in_flight": args.max_in_flight,
                "deferring": args.deferring,
                "deferring_seconds": args.deferring_seconds,
                "smoke": args.smoke,
            },
            "runs": rows,
            "mapped": mapped,
            "targets": targets,
            "wall_seconds": time.perf_counter() - started,
        },
    )


def argparse_hidden() -> str:
    """Help text of the internal ``--child`` option (the parent runs itself in child processes)."""
    return "internal: run one batch execution or one trigger, reading its spec on stdin"


if __name__ == "__main__":
    main()
