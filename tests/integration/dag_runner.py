"""Run a DAG from the integration DAGs folder with ``dag.test()`` and report what happened."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from packaging.version import Version
from tests.helpers import AIRFLOW_VERSION


@dataclass
class DagRunOutcome:
    """The final state of a run, and of each task instance (``task_id[map_index]`` → state)."""

    state: str
    task_states: dict[str, str]
    tries: dict[str, int]
    return_values: dict[str, Any]
    run_id: str


def dag_bag() -> Any:
    """The DagBag of the assembled DAGs folder."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> DagRunOutcome:
    """``dag.test()`` the DAG (triggers run inline) and collect states and return values."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = dag_bag()
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id!r}"
    if Version("3.3") > AIRFLOW_VERSION:
        _register_assets(bag)
    dag_run = dag.test(run_conf=conf or {})
    with create_session() as session:
        instances = dag_run.get_task_instances(session=session)
        states = {_key(ti): str(ti.state) for ti in instances}
        tries = {_key(ti): int(ti.try_number) for ti in instances}
        values = {}
        for ti in instances:
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
                values[_key(ti)] = XComModel.deserialize_value(row)
    return DagRunOutcome(str(dag_run.state), states, tries, values, str(dag_run.run_id))


def _register_assets(bag: Any) -> None:
    """Airflow 3.0's ``dag.test()`` does not write the DAG to the database, so the assets its tasks
    emit are unknown there and the task fails ("inactive assets"); the DAG processor would have
    registered them. Do what it does: store the DAGs and mark their assets active.
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.models.asset import AssetActive, AssetModel
    from airflow.utils.session import create_session

    DagBundlesManager().sync_bundles_to_db()
    bag.sync_to_db("dags-folder", None)
    with create_session() as session:
        active = {(row.name, row.uri) for row in session.query(AssetActive)}
        for asset in session.query(AssetModel):
            if (asset.name, asset.uri) not in active:
                session.add(AssetActive.for_asset(asset))


def _key(ti: Any) -> str:
    return ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
