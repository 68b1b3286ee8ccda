"""Run a benchmark DAG with ``dag.test()`` and time every worker-side run of every task instance.

``dag.test()`` is real Airflow: a metadata database, mapped task instances, the task runner with its
context, XComs and state transitions, and deferral with the trigger run inline. Each worker-side run
goes through ``supervisor.run_task_in_process``; timing that call (and only that call: the inline
trigger runs outside it) gives the seconds a worker slot would be held, Airflow's own per-run
overhead included. Its limit: task instances run one after another, never in parallel.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DAGS_FILE = Path(__file__).resolve().parent / "dags" / "bench_dags.py"


@dataclass
class TaskRun:
    """One worker-side run of a task instance (a deferring task has two: defer, then resume)."""

    task_id: str
    map_index: int
    seconds: float
    state: str


@dataclass
class DagTestOutcome:
    """What a ``dag.test()`` run did: final states, every timed run, return values, wall time."""

    state: str
    wall_seconds: float
    runs: list[TaskRun] = field(default_factory=list)
    task_states: dict[str, str] = field(default_factory=dict)
    return_values: dict[str, Any] = field(default_factory=dict)

    def slot_seconds(self) -> float:
        """Total seconds of all worker-side runs."""
        return sum(run.seconds for run in self.runs)


def install_bench_dags(artworks: int, poll_seconds: float) -> None:
    """Copy the benchmark DAGs into the isolated DAGs folder, sized by environment variables."""
    os.environ["TENGR_BENCH_ARTWORKS"] = str(artworks)
    os.environ["TENGR_BENCH_POLL_SECONDS"] = str(poll_seconds)
    shutil.copy(DAGS_FILE, Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / DAGS_FILE.name)


@contextmanager
def _timing_worker_runs(runs: list[TaskRun]) -> Iterator[None]:
    import airflow.sdk.execution_time.supervisor as supervisor

    original: Callable[..., Any] = supervisor.run_task_in_process

    def timed(*args: Any, **kwargs: Any) -> Any:
        ti = kwargs.get("ti", args[0] if args else None)
        started = time.perf_counter()
        result = original(*args, **kwargs)
        seconds = time.perf_counter() - started
        runs.append(TaskRun(ti.task_id, ti.map_index, seconds, str(result.ti.state)))
        return result

    supervisor.run_task_in_process = timed  # dag.test imports it from the module at each task run
    try:
        yield
    finally:
        supervisor.run_task_in_process = original


def run_dag_test(dag_id: str) -> DagTestOutcome:
    """``dag.test()`` one benchmark DAG, timing each worker-side run; collects states and results."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"benchmark DAGs failed to import: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    runs: list[TaskRun] = []
    started = time.perf_counter()
    with _timing_worker_runs(runs):
        dag_run = dag.test()
    outcome = DagTestOutcome(str(dag_run.state), time.perf_counter() - started, runs)
    with create_session() as session:
        for ti in dag_run.get_task_instances(session=session):
            key = f"{ti.task_id}[{ti.map_index}]"
            outcome.task_states[key] = str(ti.state)
            row = (
                session.query(XComModel)
                .filter_by(
                    dag_id=dag_id,
                    run_id=dag_run.run_id,
                    task_id=ti.task_id,
                    map_index=ti.map_index,
                    key="return_value",
                )
                .one_or_none()
            )
            if row is not None:
                outcome.return_values[key] = XComModel.deserialize_value(row)
    return outcome
