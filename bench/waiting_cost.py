"""Benchmark 1: what waiting for an artwork costs in worker slots and API calls, four ways.

N artworks that take D seconds each are waited on by (a) ``TengrPhotoPilotOperator(deferrable=True)``,
(b) ``TengrArtworkSensor`` in poke mode, (c) a PythonOperator running a ``requests`` + ``time.sleep``
loop (what users write without a provider) and (d) providers-http's ``HttpSensor`` in poke mode.
(b)-(d) wait for an artwork created by a submit task (``TengrPhotoPilotOperator`` with
``wait_for_completion=False``); (a) creates its own. Worker-slot seconds count every worker-side run
of every task an artwork needs, so all four pay for one create.

The four variants run at the same time, each against its own in-process emulator (so each has its
own API-call count), with the same poll interval. Worker-side code runs as Airflow's task runner runs
it and only that is timed (see :mod:`bench._worker`); (a)'s trigger runs in a triggerer event loop on
another thread. A ``dag.test()`` cross-check then measures (a) and (b) through real Airflow, where
Airflow's own per-run overhead is included (see :mod:`bench._dagtest`), for one artwork per variant
at the same D.

    python -m bench.waiting_cost                 # N=50, D=20 s, poll 5 s (about 80 s)
    python -m bench.waiting_cost --smoke         # N=3, D=1 s: checks the script
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench._common import (
    API_KEY,
    PHOTO_FIELDS,
    api_calls,
    base_parser,
    emit,
    http_connection_json,
    isolate_airflow,
    migrate_airflow_db,
    print_table,
    target,
    tengr_connection_json,
    without_requeue_settle,
)
from bench._worker import (
    RunOutcome,
    SlotTime,
    Triggerer,
    execute_as_task_runner,
    preload,
    resume_as_task_runner,
    task_context,
)

FINISHED_OK = ("succeeded", "done")
FINISHED_BAD = ("failed", "canceled")


@dataclass(frozen=True)
class Variant:
    """One way of waiting; ``key`` also names its connections (``tengr_<key>``, ``http_<key>``)."""

    key: str
    label: str


VARIANTS = (
    Variant("a", "(a) TengrPhotoPilotOperator(deferrable=True)"),
    Variant("b", "(b) TengrArtworkSensor(mode='poke')"),
    Variant("c", "(c) PythonOperator: requests + time.sleep loop"),
    Variant("d", "(d) HttpSensor(mode='poke'), providers-http"),
)


@dataclass
class ArtworkWait:
    """One artwork's journey through a variant: worker time per phase and when its result arrived."""

    submit: SlotTime = field(default_factory=SlotTime)
    wait: SlotTime = field(default_factory=SlotTime)
    seconds_to_result: float = 0.0
    error: str | None = None

    @property
    def total(self) -> SlotTime:
        total = SlotTime()
        total += self.submit
        total += self.wait
        return total


@dataclass
class Settings:
    """N artworks per variant, D seconds each, the poll interval of all variants, every wait's timeout."""

    artworks: int
    duration: float
    poll: float
    timeout: float


# -- what a user writes without the provider (variant c) and the check HttpSensor needs (variant d) ----


def poll_with_requests(url: str, api_key: str, poll_interval: float, timeout: float) -> dict[str, Any]:
    """The loop users write in a PythonOperator today: GET, check the status, sleep, repeat."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
        response.raise_for_status()
        artwork: dict[str, Any] = response.json()
        if artwork["status"] in FINISHED_OK:
            return artwork
        if artwork["status"] in FINISHED_BAD:
            raise RuntimeError(f"artwork {artwork['id']} ended {artwork['status']}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"artwork {artwork['id']} still {artwork['status']}")
        time.sleep(poll_interval)


def artwork_finished(response: Any) -> bool:
    """HttpSensor's ``response_check``: done when the artwork's status is final and successful."""
    status = response.json()["status"]
    if status in FINISHED_BAD:
        raise RuntimeError(f"artwork ended {status}")
    return bool(status in FINISHED_OK)


# -- the four variants --------------------------------------------------------------------------------


def _check(outcome: RunOutcome, what: str) -> RunOutcome:
    if outcome.error is not None:
        raise RuntimeError(f"{what} failed: {outcome.error}") from outcome.error
    return outcome


def _photo_pilot(variant: Variant, source: str, **kwargs: Any) -> Any:
    from tengr_provider.operators import TengrPhotoPilotOperator

    return TengrPhotoPilotOperator(
        task_id="restyle", tengr_conn_id=f"tengr_{variant.key}", image_url=source, **PHOTO_FIELDS, **kwargs
    )


def _submit(variant: Variant, source: str, record: ArtworkWait) -> str:
    outcome = _check(
        execute_as_task_runner(_photo_pilot(variant, source, wait_for_completion=False), task_context()),
        "submit",
    )
    record.submit = outcome.slot
    return str(outcome.value["id"])


def wait_deferrable(
    variant: Variant, source: str, settings: Settings, record: ArtworkWait, triggerer: Triggerer
) -> None:
    """(a): execute until it defers, let the triggerer wait, resume a fresh copy with the event."""

    def operator() -> Any:
        return _photo_pilot(variant, source, deferrable=True, poll_interval=settings.poll)

    first = _check(execute_as_task_runner(operator(), task_context()), "execute")
    record.submit = first.slot
    if first.deferral is None:
        raise RuntimeError("the deferrable operator finished without deferring")
    fired = threading.Event()
    events: list[Any] = []

    def on_events(payloads: list[Any]) -> None:
        events.extend(payloads)
        fired.set()

    triggerer.submit(first.deferral, on_events)
    if not fired.wait(settings.timeout):
        raise TimeoutError("the trigger did not fire")
    if len(events) != 1:
        raise RuntimeError(f"the trigger fired {len(events)} events")
    resumed = _check(resume_as_task_runner(operator(), first.deferral, events[0], task_context()), "resume")
    record.wait = resumed.slot


def wait_sensor_poke(variant: Variant, source: str, settings: Settings, record: ArtworkWait) -> None:
    """(b): the provider's sensor in poke mode, holding its slot while it polls."""
    from tengr_provider.sensors.artwork import TengrArtworkSensor

    artwork_id = _submit(variant, source, record)
    sensor = TengrArtworkSensor(
        task_id="wait",
        artwork_id=artwork_id,
        tengr_conn_id=f"tengr_{variant.key}",
        mode="poke",
        poke_interval=settings.poll,
        timeout=settings.timeout,
    )
    record.wait = _check(execute_as_task_runner(sensor, task_context()), "sensor").slot


def wait_python_loop(
    variant: Variant, source: str, settings: Settings, record: ArtworkWait, base_url: str
) -> None:
    """(c): a PythonOperator whose callable polls with ``requests`` and ``time.sleep``."""
    from airflow.providers.standard.operators.python import PythonOperator

    artwork_id = _submit(variant, source, record)
    wait = PythonOperator(
        task_id="wait",
        python_callable=poll_with_requests,
        op_kwargs={
            "url": f"{base_url}/v1/artworks/{artwork_id}",
            "api_key": API_KEY,
            "poll_interval": settings.poll,
            "timeout": settings.timeout,
        },
    )
    record.wait = _check(execute_as_task_runner(wait, task_context()), "python loop").slot


def wait_http_sensor(variant: Variant, source: str, settings: Settings, record: ArtworkWait) -> None:
    """(d): providers-http's HttpSensor in poke mode, GETting the same URL with a response check.

    A ``response_check`` is needed to look at the status; with one, HttpSensor always pokes on the
    worker (its deferrable mode only waits for a non-404 answer).
    """
    from airflow.providers.http.sensors.http import HttpSensor

    artwork_id = _submit(variant, source, record)
    sensor = HttpSensor(
        task_id="wait",
        http_conn_id=f"http_{variant.key}",
        endpoint=f"v1/artworks/{artwork_id}",
        method="GET",
        response_check=artwork_finished,
        mode="poke",
        poke_interval=settings.poll,
        timeout=settings.timeout,
    )
    record.wait = _check(execute_as_task_runner(sensor, task_context()), "HttpSensor").slot


# -- the run ----------------------------------------------------------------------------------------


def run_in_process(settings: Settings) -> dict[str, Any]:
    """All four variants at once, N artworks each, every artwork on its own thread."""
    from tengr_provider.testing import TengrEmulator

    preload(
        "tengr_provider.operators",
        "tengr_provider.sensors.artwork",
        "tengr_provider.triggers.artwork",
        "airflow.providers.standard.operators.python",
        "airflow.providers.http.sensors.http",
        "airflow.providers.http.hooks.http",
    )
    emulators = {v.key: TengrEmulator(processing_seconds=settings.duration).start() for v in VARIANTS}
    try:
        for key, emulator in emulators.items():
            os.environ[f"AIRFLOW_CONN_TENGR_{key.upper()}"] = tengr_connection_json(emulator.url)
            os.environ[f"AIRFLOW_CONN_HTTP_{key.upper()}"] = http_connection_json(emulator.url)
        records = {v.key: [ArtworkWait() for _ in range(settings.artworks)] for v in VARIANTS}
        with Triggerer() as triggerer:
            waits: dict[str, Callable[[Variant, str, ArtworkWait], None]] = {
                "a": lambda v, s, r: wait_deferrable(v, s, settings, r, triggerer),
                "b": lambda v, s, r: wait_sensor_poke(v, s, settings, r),
                "c": lambda v, s, r: wait_python_loop(v, s, settings, r, emulators["c"].url),
                "d": lambda v, s, r: wait_http_sensor(v, s, settings, r),
            }
            threads = []
            # Dispatch spread over about a second, as a scheduler hands out mapped task instances.
            stagger = min(0.02, 1.0 / settings.artworks)
            for n in range(settings.artworks):
                for variant in VARIANTS:
                    source = emulators[variant.key].sample_image_url(f"source-{n}", width=512, height=512)
                    record = records[variant.key][n]
                    thread = threading.Thread(
                        target=_follow,
                        args=(waits[variant.key], variant, source, record),
                        name=f"bench-{variant.key}-{n}",
                        daemon=True,
                    )
                    threads.append(thread)
                    thread.start()
                time.sleep(stagger)
            deadline = time.monotonic() + settings.timeout + 60
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            unfinished = sum(thread.is_alive() for thread in threads)
        triggerer_cpu = triggerer.cpu_seconds
        return {
            "variants": {
                v.key: _summarize(v, records[v.key], emulators[v.key].stats().to_api(), settings)
                for v in VARIANTS
            },
            "triggerer_cpu_seconds_per_artwork": triggerer_cpu / settings.artworks,
            "unfinished_threads": unfinished,
        }
    finally:
        for emulator in emulators.values():
            emulator.stop()


def _follow(
    wait: Callable[[Variant, str, ArtworkWait], None], variant: Variant, source: str, record: ArtworkWait
) -> None:
    started = time.perf_counter()
    try:
        wait(variant, source, record)
    except Exception as error:
        record.error = f"{type(error).__name__}: {error}"
    record.seconds_to_result = time.perf_counter() - started


def _summarize(
    variant: Variant, records: list[ArtworkWait], stats: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    ok = [r for r in records if r.error is None]
    count = len(records)

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else float("nan")

    return {
        "label": variant.label,
        "artworks": count,
        "succeeded": len(ok),
        "errors": sorted({r.error for r in records if r.error})[:5],
        "slot_seconds_per_artwork": mean([r.total.wall for r in ok]),
        "slot_seconds_submit": mean([r.submit.wall for r in ok]),
        "slot_seconds_wait": mean([r.wait.wall for r in ok]),
        "worker_cpu_seconds_per_artwork": mean([r.total.cpu for r in ok]),
        "api_calls_per_artwork": api_calls(stats) / count,
        "artworks_created": stats["artworksCreated"],
        "seconds_to_result": mean([r.seconds_to_result for r in ok]),
    }


def run_dag_test_check(artworks: int, duration: float, poll: float) -> dict[str, Any]:
    """(a) and (b) through ``dag.test()``: Airflow's per-run overhead included, tasks run one by one."""
    from bench._dagtest import install_bench_dags, run_dag_test
    from tengr_provider.testing import TengrEmulator

    migrate_seconds = migrate_airflow_db()
    # The first task run in a process starts Airflow's in-process Execution API and imports what the
    # runs need (seconds): a worker pays that once, not per task, so it is paid here, untimed.
    with TengrEmulator(processing_seconds=0) as warm_up:
        os.environ["AIRFLOW_CONN_TENGR_DEFAULT"] = tengr_connection_json(warm_up.url)
        install_bench_dags(1, poll)
        for dag_id in ("bench_wait_deferrable", "bench_wait_poke"):
            run_dag_test(dag_id)
    install_bench_dags(artworks, poll)
    results: dict[str, Any] = {"artworks": artworks, "duration": duration, "migrate_seconds": migrate_seconds}
    with TengrEmulator(processing_seconds=duration) as emulator:
        os.environ["AIRFLOW_CONN_TENGR_DEFAULT"] = tengr_connection_json(emulator.url)
        for key, dag_id in (("a", "bench_wait_deferrable"), ("b", "bench_wait_poke")):
            emulator.reset_stats()
            outcome = run_dag_test(dag_id)
            stats = emulator.stats().to_api()
            results[key] = {
                "dag_id": dag_id,
                "state": outcome.state,
                "failed_tasks": sum(state != "success" for state in outcome.task_states.values()),
                "worker_runs_per_artwork": len(outcome.runs) / artworks,
                "slot_seconds_per_artwork": outcome.slot_seconds() / artworks,
                "slot_seconds_per_run_median": statistics.median(run.seconds for run in outcome.runs),
                "api_calls_per_artwork": api_calls(stats) / artworks,
                "wall_seconds": outcome.wall_seconds,
            }
    results["ratio_a_b"] = results["a"]["slot_seconds_per_artwork"] / results["b"]["slot_seconds_per_artwork"]
    return results


def main(argv: list[str] | None = None) -> None:
    without_requeue_settle()
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--artworks", type=int, default=50, help="N, artworks per variant")
    parser.add_argument("--duration", type=float, default=20.0, help="D, seconds an artwork takes")
    parser.add_argument("--poll", type=float, default=5.0, help="poll / poke interval of every variant")
    # One artwork: dag.test() runs task instances one after another, so with more, every sensor after
    # the first finds its artwork (created with the others) further along, and poking looks cheaper.
    parser.add_argument("--dag-test-artworks", type=int, default=1, help="N of the dag.test() check; 0 skips")
    parser.add_argument("--dag-test-duration", type=float, help="D of the dag.test() check (default: D)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.artworks, args.duration, args.poll = 3, 1.0, 0.3
        args.dag_test_artworks, args.dag_test_duration = 1, 0.5
    if args.dag_test_duration is None:
        args.dag_test_duration = args.duration
    settings = Settings(args.artworks, args.duration, args.poll, timeout=3 * args.duration + 60)

    isolate_airflow("waiting-cost")
    started = time.perf_counter()
    in_process = run_in_process(settings)
    variants = in_process["variants"]
    ratio = variants["a"]["slot_seconds_per_artwork"] / variants["b"]["slot_seconds_per_artwork"]
    print_table(
        f"Waiting cost: N={args.artworks} artworks of D={args.duration:g} s each, poll {args.poll:g} s",
        [
            "variant",
            "ok",
            "worker-slot s / artwork",
            "of which create (+defer)",
            "of which wait (resume)",
            "worker CPU s / artwork",
            "API calls / artwork",
            "s to result",
        ],
        [
            [
                v["label"],
                f"{v['succeeded']}/{v['artworks']}",
                v["slot_seconds_per_artwork"],
                v["slot_seconds_submit"],
                v["slot_seconds_wait"],
                v["worker_cpu_seconds_per_artwork"],
                v["api_calls_per_artwork"],
                v["seconds_to_result"],
            ]
            for v in variants.values()
        ],
    )
    for v in variants.values():
        if v["errors"]:
            print(f"{v['label']}: {v['artworks'] - v['succeeded']} failed, e.g. {v['errors']}")
    print(
        f"(a)/(b) worker-slot seconds: {ratio:.4f}; (a)'s triggerer CPU: "
        f"{in_process['triggerer_cpu_seconds_per_artwork'] * 1000:.1f} ms per artwork"
    )
    dag_test = None
    if args.dag_test_artworks > 0:
        dag_test = run_dag_test_check(args.dag_test_artworks, args.dag_test_duration, args.poll)
        print_table(
            f"dag.test() cross-check: N={args.dag_test_artworks}, D={args.dag_test_duration:g} s, "
            f"poll {args.poll:g} s (Airflow's per-run overhead included; task instances run one by one)",
            [
                "variant",
                "run state",
                "worker runs / artwork",
                "worker-slot s / artwork",
                "API calls / artwork",
            ],
            [
                [
                    VARIANTS[0 if key == "a" else 1].label,
                    dag_test[key]["state"],
                    dag_test[key]["worker_runs_per_artwork"],
                    dag_test[key]["slot_seconds_per_artwork"],
                    dag_test[key]["api_calls_per_artwork"],
                ]
                for key in ("a", "b")
            ],
        )
        print(f"dag.test() (a)/(b): {dag_test['ratio_a_b']:.4f}")
    emit(
        "waiting_cost",
        {
            "settings": {
                "artworks": args.artworks,
                "duration": args.duration,
                "poll": args.poll,
                "smoke": args.smoke,
            },
            **in_process,
            "ratio_a_b": ratio,
            "dag_test": dag_test,
            "targets": {
                "ratio_a_b": target("(a)/(b) worker-slot seconds <= 0.05", ratio, 0.05),
                **(
                    {}
                    if dag_test is None
                    else {
                        "ratio_a_b_dag_test": target(
                            "(a)/(b) worker-slot seconds <= 0.05 [dag.test(), Airflow's per-run overhead]",
                            dag_test["ratio_a_b"],
                            0.05,
                        )
                    }
                ),
            },
            "wall_seconds": time.perf_counter() - started,
        },
    )


if __name__ == "__main__":
    main()
