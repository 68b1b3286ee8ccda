"""Run operators, sensors and triggers in-process the way Airflow's worker and triggerer do.

A benchmark that wants to know what a task costs a *worker slot* must run the code a worker runs and
time only that. Airflow's task runner calls ``execute`` (with the safeguard sentinel that marks a
real run); a deferring task raises ``TaskDeferred``, which hands the trigger's serialized form to the
triggerer and frees the slot; the triggerer rebuilds the trigger from that form, runs ``run()`` in its
event loop and collects every event; a worker then calls ``resume_execution`` on a *fresh* copy of the
task. :class:`Triggerer` and the ``*_as_task_runner`` helpers do exactly those steps, minus the
database, the Execution API and the process start-up around them (the benchmarks say where that
matters).
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


class BenchTaskInstance:
    """The slice of a running task instance the operators touch: XCom pushes and stats tags."""

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


class BenchTaskStateStore(dict[str, Any]):
    """Airflow 3.3's task state store as ``ResumableJobMixin`` uses it (``get`` / ``set``)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


def preload(*modules: str) -> None:
    """Import Airflow and the code under test on this thread, before any worker thread starts.

    Airflow configures itself (settings, logging) on first import; two threads importing it for the
    first time at once see a half-initialised package and fail. A worker process has everything
    imported before it runs a task anyway.
    """
    for module in (
        "airflow",
        "airflow.sdk",
        "airflow.sdk.bases.operator",
        "airflow.sdk.exceptions",
        "airflow.sdk.serde",
        "greenback",
        *modules,
    ):
        importlib.import_module(module)


def task_context() -> dict[str, Any]:
    """A task context with a task instance and a task state store, as a 3.3 worker provides."""
    return {"ti": BenchTaskInstance(), "task_state_store": BenchTaskStateStore()}


@dataclass
class Deferral:
    """What a deferring task hands to the triggerer, and what its resumption needs."""

    classpath: str
    kwargs: dict[str, Any]
    next_method: str
    next_kwargs: dict[str, Any] | None


@dataclass
class SlotTime:
    """Time one task held a worker slot: wall seconds (what the slot is blocked for) and CPU seconds."""

    wall: float = 0.0
    cpu: float = 0.0

    def __iadd__(self, other: SlotTime) -> SlotTime:
        self.wall += other.wall
        self.cpu += other.cpu
        return self


@dataclass
class RunOutcome:
    """The result of one worker-side run: its return value, a deferral, or an error."""

    slot: SlotTime
    value: Any = None
    deferral: Deferral | None = None
    error: BaseException | None = None


def _timed(call: Callable[[], Any]) -> RunOutcome:
    from airflow.sdk.exceptions import TaskDeferred

    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        value = call()
    except TaskDeferred as deferred:
        classpath, kwargs = deferred.trigger.serialize()
        deferral = Deferral(classpath, through_serde(kwargs), deferred.method_name, deferred.kwargs)
        return RunOutcome(_elapsed(wall, cpu), deferral=deferral)
    except Exception as error:
        return RunOutcome(_elapsed(wall, cpu), error=error)
    return RunOutcome(_elapsed(wall, cpu), value=value)


def _elapsed(wall: float, cpu: float) -> SlotTime:
    return SlotTime(time.perf_counter() - wall, time.thread_time() - cpu)


def through_serde(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Round-trip trigger kwargs through Airflow's serde, as they travel from worker to triggerer."""
    from airflow.sdk.serde import deserialize, serialize

    restored = deserialize(serialize(kwargs))
    assert isinstance(restored, dict)
    return restored


def execute_as_task_runner(task: Any, context: dict[str, Any]) -> RunOutcome:
    """``task.execute(context)`` as the task runner calls it, timed on this thread."""
    from airflow.sdk.bases.operator import ExecutorSafeguard

    sentinel = {f"{type(task).__name__}__sentinel": ExecutorSafeguard.sentinel_value}
    return _timed(lambda: task.execute(context=context, **sentinel))


def resume_as_task_runner(
    task: Any, deferral: Deferral, event_payload: Any, context: dict[str, Any]
) -> RunOutcome:
    """Resume a fresh copy of a deferred task with its trigger's event, as the task runner does."""
    next_kwargs = {**(deferral.next_kwargs or {}), "event": event_payload}
    return _timed(lambda: task.resume_execution(deferral.next_method, next_kwargs, context))


class Triggerer:
    """An asyncio event loop on its own thread that runs triggers as Airflow's triggerer does.

    Each trigger is rebuilt from its serialized form, gets a greenback portal (the triggerer gives
    every trigger one, so sync code can call async connection lookups), and is iterated to the end:
    every event it yields is collected, and ``on_events`` receives them all when ``run()`` returns.
    The loop thread's CPU time is what the triggerer spent on these triggers.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="bench-triggerer", daemon=True)
        self._cpu_seconds = 0.0
        self._started = threading.Event()

    def __enter__(self) -> Triggerer:
        self._thread.start()
        self._started.wait()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=60)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the loop thread used (final after the ``with`` block ends)."""
        return self._cpu_seconds

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        started = time.thread_time()
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self._cpu_seconds = time.thread_time() - started
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def submit(self, deferral: Deferral, on_events: Callable[[list[Any]], None]) -> Future[None]:
        """Run the deferral's trigger; ``on_events`` is called on the loop thread with its events."""
        return asyncio.run_coroutine_threadsafe(self._run(deferral, on_events), self.loop)

    async def _run(self, deferral: Deferral, on_events: Callable[[list[Any]], None]) -> None:
        events = await run_trigger(deferral.classpath, deferral.kwargs)
        on_events(events)


async def run_trigger(classpath: str, kwargs: dict[str, Any]) -> list[Any]:
    """Rebuild a trigger from its serialized form and collect the payload of every event it yields."""
    import greenback

    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)
    await greenback.ensure_portal()
    events: list[Any] = []
    try:
        async for event in trigger.run():
            events.append(event.payload)
    finally:
        await trigger.cleanup()
    return events


@dataclass
class Tally:
    """Thread-safe counters of finished tasks, with an event set when all expected have finished."""

    expected: int
    done: int = 0
    failures: list[str] = field(default_factory=list)
    all_done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self, error: BaseException | None = None) -> None:
        with self._lock:
            self.done += 1
            if error is not None:
                self.failures.append(f"{type(error).__name__}: {error}")
            if self.done >= self.expected:
                self.all_done.set()
