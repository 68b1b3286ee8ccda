"""Every example DAG under a real scheduler, triggered as users trigger it: no logical date.

A run of each example that is not scheduled on an asset is triggered through the REST API (what the
Trigger button sends); the asset-scheduled ones run from the events the others emit; a review waiting
for a person is answered through the REST API. ``TENGR_EXAMPLE_RUNS`` (default 1) repeats the round.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import pytest
from tests.helpers import wait_for
from tests.standalone import PROJECT, StandaloneAirflow

from tengr_provider.testing.app import SAMPLES_PREFIX

pytestmark = [pytest.mark.scheduler, pytest.mark.timeout(3600)]

ROUNDS = int(os.environ.get("TENGR_EXAMPLE_RUNS", "1"))


def example_dags(airflow: StandaloneAirflow) -> dict[str, dict[str, Any]]:
    """The example DAGs, by id, once every file of dags_examples/ has been parsed."""
    files = {path.name for path in (PROJECT / "dags_examples").glob("*.py")}

    def parsed() -> dict[str, dict[str, Any]] | None:
        dags = airflow.call("GET", "/dags", params={"limit": 100}).json()["dags"]
        found = {dag["dag_id"]: dag for dag in dags if dag["fileloc"].rpartition("/")[2] in files}
        return found if {dag["fileloc"].rpartition("/")[2] for dag in found.values()} == files else None

    dags: dict[str, dict[str, Any]] = wait_for(parsed, 180, "every example DAG to be parsed", every=2)
    return dags


def answer_reviews(airflow: StandaloneAirflow) -> None:
    """Pick the first option of every review waiting for a person."""
    pending = airflow.call("GET", "/dags/~/dagRuns/~/hitlDetails", params={"response_received": False})
    for detail in pending.json().get("hitl_details", []):
        ti = detail["task_instance"]
        path = (
            f"/dags/{ti['dag_id']}/dagRuns/{quote(ti['dag_run_id'], safe='')}/taskInstances/"
            f"{ti['task_id']}/{ti['map_index']}/hitlDetails"
        )
        airflow.call("PATCH", path, json={"chosen_options": detail["options"][:1]})


def run_states(airflow: StandaloneAirflow, dag_id: str) -> dict[str, str]:
    """``{run_id: state}`` of every run of ``dag_id``."""
    answer = airflow.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
    if answer.status_code != 200:  # a busy SQLite can fail a read; the caller asks again
        return {}
    return {run["dag_run_id"]: run["state"] for run in answer.json()["dag_runs"]}


def test_every_example_succeeds_every_time_without_a_logical_date(airflow: StandaloneAirflow) -> None:
    dags = example_dags(airflow)
    triggered = sorted(dag_id for dag_id, dag in dags.items() if not dag.get("asset_expression"))
    samples = f"{airflow.emulator_url}{SAMPLES_PREFIX.rstrip('/')}"
    conf = {"tengr_review_before_print": {"photo_base_url": samples}}
    for _ in range(ROUNDS):
        runs = {dag_id: airflow.trigger(dag_id, conf.get(dag_id, {})) for dag_id in triggered}

        def all_ended(runs: dict[str, str] = runs) -> bool:
            answer_reviews(airflow)
            return all(
                run_states(airflow, dag_id).get(run_id) in ("success", "failed")
                for dag_id, run_id in runs.items()
            )

        wait_for(all_ended, 900, "every example's run to end", every=2)

    def every_run_ended() -> dict[str, list[str]] | None:
        found = {dag_id: list(run_states(airflow, dag_id).values()) for dag_id in dags}
        over = all(state in ("success", "failed") for runs in found.values() for state in runs)
        return found if over else None

    # The asset-scheduled examples run from the events of the others: wait until theirs have ended too.
    ended = wait_for(every_run_ended, 300, "the asset-triggered runs to end", every=2)
    # Every run counts: the ones triggered here, a scheduled example's own run, the asset-triggered ones.
    print({dag_id: f"{runs.count('success')}/{len(runs)} succeeded" for dag_id, runs in ended.items()})
    assert all(len(ended[dag_id]) >= ROUNDS for dag_id in triggered), ended
    assert all(runs and set(runs) == {"success"} for runs in ended.values()), ended
