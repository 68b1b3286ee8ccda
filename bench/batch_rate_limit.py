"""Benchmark 3: a mapped batch of photo-pilot artworks against an API limited to R requests per second.

With one read per artwork (create, then one read that finds it finished) no client can finish N
artworks faster than the emulator's token bucket allows (R tokens a second, holding one second's
worth): ``(2N - R) / R`` seconds. The triggers' shared status poller reads many artworks per list call,
so the bound creations alone impose, ``(N - R) / R``, is what it can approach; both are reported, and
the batch runs with the shared poller (as shipped) and with per-id polling (``coalesce=False``). The
benchmark reports the makespan against that bound, the 429s the API answered, task failures and
duplicate artworks (creations no task owns: a retried create that had in fact succeeded).

Two harnesses, same operator (``TengrPhotoPilotOperator(deferrable=True)``, the recommended set-up):

- **concurrent** (the headline): the batch as a deployment runs it. ``--slots`` worker slots (Airflow's
  default ``max_active_tasks`` per DAG is 16) execute the mapped task instances as the task runner
  does, deferred waits run in one triggerer event loop, and resumptions take a slot again
  (see :mod:`bench._worker`). The emulator runs in its own process.
- **dag.test()**: the same mapped task through real Airflow (scheduler loop, metadata DB, task
  runner, inline triggers). ``dag.test()`` runs task instances one at a time, so it cannot show a
  429 storm of parallel tasks, and its makespan is Airflow's per-task overhead times N unless the
  limit is lower still; it runs at a smaller N and R to prove the real code path loses nothing.

    python -m bench.batch_rate_limit             # N=200 at R=10/s, 16 slots; dag.test() N=20 at R=2/s
    python -m bench.batch_rate_limit --smoke
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench._common import (
    PHOTO_FIELDS,
    answers_with,
    api_calls,
    base_parser,
    emit,
    emulator_process,
    isolate_airflow,
    migrate_airflow_db,
    print_table,
    set_connections,
    target,
    without_requeue_settle,
)
from bench._worker import (
    Deferral,
    RunOutcome,
    Tally,
    Triggerer,
    execute_as_task_runner,
    preload,
    resume_as_task_runner,
    task_context,
)

ARTWORK_ID_KEY = "tengr_artwork_id"  # where the operator keeps its artwork id (task state store)


def lower_bound_seconds(calls: int, rate: float) -> float:
    """Seconds a token bucket of ``rate``/s (starting full, one second's worth) needs for ``calls``."""
    return max(0.0, (calls - rate) / rate)


def run_concurrent(
    base_url: str, artworks: int, slots: int, poll: float, deadline: float, *, coalesce: bool = True
) -> dict[str, Any]:
    """N mapped task instances through ``slots`` worker threads and one triggerer loop."""
    from tengr_provider.operators import TengrPhotoPilotOperator

    def operator(n: int) -> Any:
        return TengrPhotoPilotOperator(
            task_id="restyle",
            image_url=f"{base_url}/samples/source-{n}.png?width=512&height=512",
            deferrable=True,
            poll_interval=poll,
            timeout=deadline,
            **PHOTO_FIELDS,
        )

    tally = Tally(expected=artworks)
    owned: list[str] = []
    owned_lock = threading.Lock()
    slot_seconds = [0.0]
    slot_cpu_seconds = [0.0]
    executions = [0]

    def account(outcome: RunOutcome, context: dict[str, Any]) -> None:
        with owned_lock:
            slot_seconds[0] += outcome.slot.wall
            slot_cpu_seconds[0] += outcome.slot.cpu
            executions[0] += 1
            artwork_id = context["task_state_store"].get(ARTWORK_ID_KEY)
            if artwork_id and artwork_id not in owned:
                owned.append(artwork_id)

    def first_run(n: int) -> None:
        try:
            context = task_context()
            outcome = execute_as_task_runner(operator(n), context)
            account(outcome, context)
            if outcome.deferral is None:
                tally.finish(outcome.error or RuntimeError("finished without deferring"))
                return
            deferral = outcome.deferral
            if not coalesce:
                deferral = dataclasses.replace(deferral, kwargs={**deferral.kwargs, "coalesce": False})
            triggerer.submit(deferral, lambda events: slots_pool.submit(resume, n, deferral, events))
        except Exception as error:
            tally.finish(error)

    def resume(n: int, deferral: Deferral, events: list[Any]) -> None:
        try:
            if len(events) != 1:
                raise RuntimeError(f"the trigger fired {len(events)} events")
            context = task_context()
            outcome = resume_as_task_runner(operator(n), deferral, events[0], context)
            account(outcome, context)
            tally.finish(outcome.error)
        except Exception as error:
            tally.finish(error)

    preload("tengr_provider.operators", "tengr_provider.triggers.artwork")
    slots_pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="bench-slot")
    with Triggerer() as triggerer:
        started = time.perf_counter()
        for n in range(artworks):
            slots_pool.submit(first_run, n)
        finished = tally.all_done.wait(deadline)
        makespan = time.perf_counter() - started
    slots_pool.shutdown(wait=False, cancel_futures=True)
    return {
        "makespan_seconds": makespan,
        "finished": finished,
        "task_failures": len(tally.failures) + (artworks - tally.done),
        "failure_examples": sorted(set(tally.failures))[:5],
        "artworks_owned_by_tasks": len(owned),
        "worker_slot_seconds": slot_seconds[0],
        "worker_cpu_seconds": slot_cpu_seconds[0],
        "executions": executions[0],
        "triggerer_cpu_seconds": triggerer.cpu_seconds,
    }


def _summary(
    name: str, artworks: int, rate: float, stats: dict[str, Any], run: dict[str, Any]
) -> dict[str, Any]:
    ok_calls = sum(
        count
        for route, by_status in stats["requests"].items()
        if route.partition(" ")[2].startswith("/v1/")
        for status, count in by_status.items()
        if status.startswith("2")
    )
    bound = lower_bound_seconds(2 * artworks, rate)
    creations_bound = lower_bound_seconds(artworks, rate)
    created = stats["artworksCreated"]
    return {
        "harness": name,
        "artworks": artworks,
        "rate_limit": rate,
        **run,
        "lower_bound_seconds": bound,
        "makespan_over_bound": run["makespan_seconds"] / bound if bound else float("nan"),
        "creations_bound_seconds": creations_bound,
        "makespan_over_creations_bound": (
            run["makespan_seconds"] / creations_bound if creations_bound else float("nan")
        ),
        "calls_bound_seconds": lower_bound_seconds(ok_calls, rate),
        "api_calls": api_calls(stats),
        "api_calls_answered_2xx": ok_calls,
        "api_calls_per_artwork_2xx": ok_calls / artworks,
        "answers_429": answers_with(stats, "429"),
        "artworks_created": created,
        "duplicates": max(0, created - run["artworks_owned_by_tasks"]),
    }


def run_dag_test_batch(artworks: int, rate: float, processing: float, poll: float) -> dict[str, Any]:
    """The mapped ``bench_batch`` DAG through ``dag.test()``, after an untimed warm-up run."""
    from bench._dagtest import install_bench_dags, run_dag_test

    migrate_airflow_db()
    with emulator_process("--processing-seconds", "0") as warm_up:
        set_connections(warm_up.url)
        install_bench_dags(1, poll)
        run_dag_test("bench_batch")  # one-off start-up of the in-process Execution API, imports
    install_bench_dags(artworks, poll)
    options = ("--processing-seconds", str(processing), "--rate-limit", str(rate))
    with emulator_process(*options) as emulator:
        set_connections(emulator.url)
        outcome = run_dag_test("bench_batch")
        stats = emulator.stats()
    owned = {value["id"] for value in outcome.return_values.values() if isinstance(value, dict)}
    failures = sum(state != "success" for state in outcome.task_states.values())
    failures += artworks - len(outcome.task_states)
    run = {
        "makespan_seconds": outcome.wall_seconds,
        "finished": outcome.state == "success",
        "task_failures": failures,
        "failure_examples": [],
        "artworks_owned_by_tasks": len(owned),
        "worker_slot_seconds": outcome.slot_seconds(),
    }
    return _summary("dag.test()", artworks, rate, stats, run)


def _targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, judged on the provider as shipped (the first run), then on the others."""
    targets = {}
    for n, run in enumerate(results):
        suffix = "" if n == 0 else f" [{run['harness']}]"
        key = "" if n == 0 else f"_{n}"
        if run["harness"].startswith("concurrent"):  # dag.test() runs tasks one by one: no makespan target
            judged = target(
                f"batch makespan <= 1.2x the rate-limit bound{suffix}", run["makespan_over_bound"], 1.2
            )
            if n == 0:  # issue 15: the shared poller leaves (almost) only the creations to the limit
                creations = target(
                    "batch makespan <= 1.1x the bound creations alone impose",
                    run["makespan_over_creations_bound"],
                    1.1,
                )
                creations["met"] = creations["met"] and run["task_failures"] == 0
                targets["makespan_creations"] = creations
            # Failed tasks never made their calls, so a makespan under the bound proves nothing then.
            judged["met"] = judged["met"] and run["task_failures"] == 0
            targets[f"makespan{key}"] = judged
        targets[f"failures{key}"] = target(f"0 task failures{suffix}", float(run["task_failures"]), 0.0)
        targets[f"duplicates{key}"] = target(f"0 duplicate artworks{suffix}", float(run["duplicates"]), 0.0)
    return targets


def main(argv: list[str] | None = None) -> None:
    without_requeue_settle()
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--artworks", type=int, default=200, help="N, mapped task instances")
    parser.add_argument("--rate-limit", type=float, default=10.0, help="R, API requests per second")
    parser.add_argument("--slots", type=int, default=16, help="worker slots running task instances")
    parser.add_argument("--processing-seconds", type=float, default=1.0, help="how long an artwork takes")
    parser.add_argument("--poll", type=float, default=2.0, help="the operator's poll_interval")
    parser.add_argument(
        "--compare-max-retries",
        type=int,
        default=30,
        help="also run with this connection extra max_retries (the workaround available today); 0 skips",
    )
    parser.add_argument("--dag-test-artworks", type=int, default=20, help="N of the dag.test() run; 0 skips")
    parser.add_argument("--dag-test-rate-limit", type=float, default=2.0, help="R of the dag.test() run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.artworks, args.rate_limit, args.slots, args.processing_seconds, args.poll = 8, 8.0, 4, 0.3, 0.3
        args.compare_max_retries, args.dag_test_artworks, args.dag_test_rate_limit = 0, 2, 20.0
    deadline = 10 * lower_bound_seconds(2 * args.artworks, args.rate_limit) + 120

    # The hook logs a WARNING per retried 429 (thousands here); the table says how many there were.
    isolate_airflow("batch", log_level="ERROR")
    started = time.perf_counter()
    results = []
    # (max_retries, coalesce); max_retries None: the connection as users create it
    settings: list[tuple[int | None, bool]] = [(None, True), (None, False)]
    if args.compare_max_retries:
        settings.append((args.compare_max_retries, True))
    for max_retries, coalesce in settings:
        extra = {} if max_retries is None else {"max_retries": max_retries}
        label = "max_retries=5 (default)" if max_retries is None else f"max_retries={max_retries} (extra)"
        options = ("--processing-seconds", str(args.processing_seconds), "--rate-limit", str(args.rate_limit))
        with emulator_process(*options) as emulator:
            set_connections(emulator.url, **extra)
            run = run_concurrent(
                emulator.url, args.artworks, args.slots, args.poll, deadline, coalesce=coalesce
            )
            stats = emulator.stats()
        poller = "shared poller" if coalesce else "per-id polling"
        name = f"concurrent, {args.slots} slots, {poller}, {label}"
        results.append(_summary(name, args.artworks, args.rate_limit, stats, run))
    if args.dag_test_artworks > 0:
        results.append(
            run_dag_test_batch(
                args.dag_test_artworks, args.dag_test_rate_limit, args.processing_seconds, args.poll
            )
        )
    print_table(
        f"Batch under a rate limit: photo-pilot artworks of {args.processing_seconds:g} s, "
        f"deferrable, poll {args.poll:g} s",
        [
            "harness",
            "artworks",
            "R req/s",
            "makespan s",
            "bound (2N-R)/R s",
            "makespan / bound",
            "creations bound (N-R)/R s",
            "makespan / creations bound",
            "429s",
            "2xx calls / artwork",
            "task failures",
            "duplicates",
        ],
        [
            [
                r["harness"],
                r["artworks"],
                r["rate_limit"],
                r["makespan_seconds"],
                r["lower_bound_seconds"],
                r["makespan_over_bound"],
                r["creations_bound_seconds"],
                r["makespan_over_creations_bound"],
                r["answers_429"],
                r["api_calls_per_artwork_2xx"],
                r["task_failures"],
                r["duplicates"],
            ]
            for r in results
        ],
    )
    for r in results:
        if r["failure_examples"]:
            print(f"{r['harness']}: failures, e.g. {r['failure_examples']}")
    emit(
        "batch_rate_limit",
        {
            "settings": {
                "artworks": args.artworks,
                "rate_limit": args.rate_limit,
                "slots": args.slots,
                "processing_seconds": args.processing_seconds,
                "poll": args.poll,
                "smoke": args.smoke,
            },
            "runs": results,
            "targets": _targets(results),
            "wall_seconds": time.perf_counter() - started,
        },
    )


if __name__ == "__main__":
    main()
