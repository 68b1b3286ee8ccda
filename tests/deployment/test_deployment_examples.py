"""Every example DAG in the deployment, started the way users start it: no logical date, or on schedule.

The runs go through the REST API exactly as the UI's Trigger button sends them (``logical_date:
null``), so a template that needs ``ds`` fails here as it fails for users; results land in S3.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.deployment.cluster import API_KEY, BUCKET, Deployment
from tests.deployment.support import PNG_SIGNATURE, creation_count, stored_objects
from tests.helpers import free_port, wait_for

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(420)]

EXAMPLES = f"s3://aws_default@{BUCKET}/examples"


def s3_key(uri: str) -> str:
    """The object key of a stored file URI (``s3://aws_default@bucket/key`` or ``s3://bucket/key``)."""
    assert uri.startswith("s3://"), uri
    return uri.removeprefix("s3://").partition("/")[2]


def assert_stored(deployment: Deployment, uris: list[str]) -> None:
    """Each URI is a whole image in the bucket."""
    assert uris, "the run stored no files"
    for uri in uris:
        body = deployment.s3_object(s3_key(uri))
        assert body[:4] in (PNG_SIGNATURE[:4], b"RIFF"), f"{uri} is not a whole image"


def test_the_catalog_refresh_runs_on_its_schedule_and_from_the_trigger_button(deployment: Deployment) -> None:
    manual = deployment.trigger("tengr_catalog_refresh")  # unpausing also lets the schedule create a run
    scheduled = wait_for(
        lambda: [r for r in deployment.runs("tengr_catalog_refresh") if r["run_type"] == "scheduled"],
        120,
        "the scheduled run",
    )[0]
    assert scheduled["logical_date"] is not None
    for run_id in (manual, scheduled["dag_run_id"]):
        deployment.wait_for_run("tengr_catalog_refresh", run_id, timeout=300)
        summary = deployment.return_values("tengr_catalog_refresh", run_id, "summary")[-1]
        assert summary["artworks"] == 3
        assert all(uri.startswith(f"{EXAMPLES}/catalog/print/") for uri in summary["files"])
        assert_stored(deployment, summary["files"])


def test_submit_then_sense_waits_with_both_sensors(deployment: Deployment) -> None:
    run_id = deployment.trigger("tengr_submit_then_sense")
    deployment.wait_for_run("tengr_submit_then_sense", run_id, timeout=300)
    states = deployment.task_states("tengr_submit_then_sense", run_id)
    assert {task: state for task, (state, _) in states.items()} == {
        "submit": "success",
        "wait_rescheduling": "success",
        "wait_deferred": "success",
    }
    artwork_id = deployment.return_values("tengr_submit_then_sense", run_id, "submit")[-1]["id"]
    for sensor in ("wait_rescheduling", "wait_deferred"):
        sensed = deployment.return_values("tengr_submit_then_sense", run_id, sensor)[-1]
        assert (sensed["id"], sensed["status"]) == (artwork_id, "succeeded")


def test_the_campaign_s_asset_event_hands_its_files_to_the_publish_dag(deployment: Deployment) -> None:
    deployment.unpause("tengr_campaign_publish")
    before = {r["dag_run_id"] for r in deployment.runs("tengr_campaign_publish")}
    run_id = deployment.trigger("tengr_style_dna_campaign")
    deployment.wait_for_run("tengr_style_dna_campaign", run_id, timeout=300)
    rendered = deployment.return_values("tengr_style_dna_campaign", run_id, "render")
    produced = sorted(uri for result in rendered.values() for uri in result["files"])
    assert len(produced) == 3
    assert_stored(deployment, produced)

    def publish_run() -> list[dict[str, Any]]:
        return [r for r in deployment.runs("tengr_campaign_publish") if r["dag_run_id"] not in before]

    (publish,) = wait_for(publish_run, 180, "the asset-triggered publish run", every=2)
    assert publish["run_type"] == "asset_triggered"
    assert publish["logical_date"] is None
    deployment.wait_for_run("tengr_campaign_publish", publish["dag_run_id"], timeout=180)
    published = deployment.return_values("tengr_campaign_publish", publish["dag_run_id"], "publish")[-1]
    assert sorted(published) == produced


def test_the_review_is_answered_through_the_rest_api(deployment: Deployment) -> None:
    dag_id = "tengr_review_before_print"
    before = creation_count(deployment)
    run_id = deployment.trigger(dag_id, {"photo_base_url": f"{deployment.emulator_url}/samples"})

    def pending() -> list[dict[str, Any]]:
        answer = deployment.call(
            "GET", f"/dags/{dag_id}/dagRuns/~/hitlDetails", params={"response_received": False}
        )
        assert answer.status_code == 200, answer.text
        return [d for d in answer.json()["hitl_details"] if d["task_instance"]["dag_run_id"] == run_id]

    (detail,) = wait_for(pending, 240, "the review to wait for a person", every=2)
    chosen = ["sneaker-red: studio", "mug-ceramic: lifestyle"]
    task = detail["task_instance"]
    answer = deployment.call(
        "PATCH",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task['task_id']}/{task['map_index']}/hitlDetails",
        json={"chosen_options": chosen},
    )
    assert answer.status_code == 200, answer.text
    deployment.wait_for_run(dag_id, run_id, timeout=240)
    rendered = deployment.return_values(dag_id, run_id, "render")
    upscaled = deployment.return_values(dag_id, run_id, "upscale")
    assert sorted(a["parameters"]["imageUrl"] for a in upscaled.values()) == sorted(
        rendered[n]["results"][0] for n in (0, 3)
    )
    assert creation_count(deployment) - before == 6  # four variants rendered, the two picks upscaled
    assert_stored(deployment, [uri for artwork in upscaled.values() for uri in artwork["files"]])


def connection_test(deployment: Deployment, **fields: Any) -> dict[str, Any]:
    """``POST /api/v2/connections/test``, what the Test button sends."""
    body = {"connection_id": "tengr_form", "conn_type": "tengr", **fields}
    answer = deployment.call("POST", "/connections/test", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_connection_test_is_green_against_the_emulator(deployment: Deployment) -> None:
    result = connection_test(deployment, host=deployment.emulator_url, password=API_KEY)
    assert result["status"] is True, result
    assert deployment.emulator_url in result["message"]


def test_the_connection_test_names_a_bad_key(deployment: Deployment) -> None:
    result = connection_test(deployment, host=deployment.emulator_url, password="not-the-key")
    assert result["status"] is False
    assert "API key" in result["message"]
    assert "not-the-key" not in result["message"]


def test_the_connection_test_names_an_unreachable_host(deployment: Deployment) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = connection_test(deployment, host=unreachable, password=API_KEY)
    assert result["status"] is False
    port = unreachable.rpartition(":")[2]
    assert "127.0.0.1" in result["message"], result["message"]
    assert port in result["message"], result["message"]
    assert API_KEY not in result["message"]
    assert time.monotonic() - started < 60, "the Test button must answer within a minute"


def test_the_api_key_is_in_no_log(deployment: Deployment) -> None:
    # The emulator is the API itself here: its console prints the key it accepts, as tengr.ai's own
    # dashboard would. Every Airflow process's log and every task and trigger log is read.
    logs = [
        *(log for log in deployment.logs.rglob("*.log") if log.name != "emulator.log"),
        *(deployment.home / "logs").rglob("*.log"),
    ]
    assert logs
    leaked = [str(log) for log in logs if API_KEY in log.read_text(errors="replace")]
    assert leaked == []


@pytest.fixture(autouse=True)
def _no_temporary_objects_left(deployment: Deployment) -> Any:
    yield
    _, hidden = stored_objects(deployment, "examples/")
    assert hidden == [], f"temporary objects left in the bucket: {hidden}"
