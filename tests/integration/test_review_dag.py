"""``tengr_review_before_print`` end to end: a person picks variants, only those are upscaled.

``dag.test()`` parks the review task in AWAITING_INPUT and waits for an answer from outside. The test
plays the reviewer through Airflow's own interface for it, the public HITL REST API (the one behind the
Required Actions page), served in-process on the same metadata database. The timeout case lets the
review's deadline pass and runs the scheduler's own timeout sweep, which applies the default answer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from PIL import Image
from tests.helpers import AIRFLOW_VERSION
from tests.integration.dag_runner import run_dag

from tengr_provider.testing import TengrEmulator

DAG_ID = "tengr_review_before_print"
#: How long the reviewer waits for the review to appear before the test gives up.
REVIEW_APPEARS_WITHIN = 240.0

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("airflow_db"),
    pytest.mark.skipif(
        Version("3.3") > AIRFLOW_VERSION,
        reason="answering a review during dag.test() needs Airflow 3.3's AWAITING_INPUT state",
    ),
]


class Reviewer:
    """A person at the Required Actions page, played through the HITL REST API of Airflow's api-server.

    The api-server app is the real one, in-process, on the test's metadata database. Its test client
    lives on the reviewer's own thread: one opened on the thread running ``dag.test()`` stalled.
    """

    def __init__(self, decide: Callable[[Reviewer, dict[str, Any]], None]) -> None:
        self.decide = decide
        self.seen: dict[str, Any] | None = None
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="reviewer", daemon=True)

    def __enter__(self) -> Reviewer:
        # Airflow is imported and the app built here: importing Airflow on two threads at once races.
        from airflow.api_fastapi.app import create_app

        self._app = create_app("core")
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.failure is not None:
            raise self.failure

    def _work(self) -> None:
        try:
            from fastapi.testclient import TestClient

            with TestClient(self._app) as client:
                self.client = client
                detail = self._wait_for_review()
                if detail is not None:
                    self.decide(self, detail)
        except BaseException as exc:  # re-raised on the test's thread in __exit__
            self.failure = exc
        if self.seen is None or self.failure is not None:
            self._abandon_the_review()

    def _abandon_the_review(self) -> None:
        """Fail a review nobody will answer, or ``dag.test()`` would wait for its 24-hour deadline.

        The review may not be parked yet when the reviewer gives up, so this waits for it to park.
        """
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        deadline = time.monotonic() + REVIEW_APPEARS_WITHIN
        while not self._stop.is_set() and time.monotonic() < deadline:
            with create_session() as session:
                failed = (
                    session.query(TaskInstance)
                    .filter(
                        TaskInstance.dag_id == DAG_ID, TaskInstance.state == TaskInstanceState.AWAITING_INPUT
                    )
                    .update({"state": TaskInstanceState.FAILED}, synchronize_session=False)
                )
            if failed:
                return
            time.sleep(0.5)

    def _wait_for_review(self) -> dict[str, Any] | None:
        """The first review of the DAG that has no answer yet, as soon as it is listed."""
        deadline = time.monotonic() + REVIEW_APPEARS_WITHIN
        while not self._stop.is_set() and time.monotonic() < deadline:
            answer = self.client.get(
                f"/api/v2/dags/{DAG_ID}/dagRuns/~/hitlDetails", params={"response_received": False}
            )
            assert answer.status_code == 200, answer.text
            details: list[dict[str, Any]] = answer.json()["hitl_details"]
            # The task writes the review before it parks in AWAITING_INPUT with its deadline (one
            # update, later): acting on the review in between races the task and can leave it waiting
            # for the 24-hour deadline.
            if details and details[0]["task_instance"]["state"] == "awaiting_input":
                self.seen = details[0]
                return details[0]
            time.sleep(0.5)
        return None

    def choose(self, detail: dict[str, Any], options: list[str]) -> None:
        """Tick ``options`` and submit, as the Required Actions page does."""
        task = detail["task_instance"]
        answer = self.client.patch(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{task['dag_run_id']}/taskInstances/"
            f"{task['task_id']}/{task['map_index']}/hitlDetails",
            json={"chosen_options": options},
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture(autouse=True)
def everyone_is_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simple auth manager lets the test client in without a login."""
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    # A key of the length the JWT library wants for the tokens the api-server signs.
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "review-test-" + "k" * 64)


def let_the_deadline_pass(reviewer: Reviewer, detail: dict[str, Any]) -> None:
    """Move the review's deadline into the past and run the scheduler's sweep that enforces it."""
    from airflow._shared.timezones import timezone
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.get(TaskInstance, uuid.UUID(detail["task_instance"]["id"]))
        assert row is not None
        assert row.trigger_timeout is not None, "the review must have a deadline"
        row.trigger_timeout = timezone.utcnow() - timedelta(seconds=1)
    SchedulerJobRunner(job=Job(), executors=[]).check_awaiting_input_timeouts()


def print_files(root: Path) -> list[Path]:
    folder = root / "print"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_only_the_variants_the_reviewer_ticks_are_upscaled(
    tengr_emulator: TengrEmulator, api_version: str, tmp_path: Path
) -> None:
    # As the UI sends it: "None of these" is selected beforehand and stays when a person adds variants.
    chosen = ["None of these", "sneaker-red: studio", "mug-ceramic: lifestyle"]
    conf = {"photo_base_url": f"{tengr_emulator.url}/samples", "output_path": tmp_path.as_uri()}

    with Reviewer(lambda reviewer, detail: reviewer.choose(detail, chosen)) as reviewer:
        outcome = run_dag(DAG_ID, conf)

    assert outcome.state == "success", outcome.task_states
    rendered = [outcome.return_values[f"render[{n}]"] for n in range(4)]
    review_page = reviewer.seen
    assert review_page is not None
    # The review showed every variant as an image, with its artwork id.
    for artwork in rendered:
        assert f"]({artwork['results'][0]})" in review_page["body"]
        assert f"artwork `{artwork['id']}`" in review_page["body"]
    assert outcome.return_values["review"]["chosen_options"] == chosen
    # Exactly the chosen variants (the 1st and the 4th) were upscaled, each once.
    upscaled = [outcome.return_values[f"upscale[{n}]"] for n in range(2)]
    assert sorted(a["parameters"]["imageUrl"] for a in upscaled) == sorted(
        rendered[n]["results"][0] for n in (0, 3)
    )
    assert "upscale[2]" not in outcome.task_states
    upscaling = {"v1": "upscaling", "v2": "upscaling_v2"}[api_version]
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 4, upscaling: 2}
    prints = print_files(tmp_path)
    assert [p.name for p in prints] == sorted(f"{a['id']}_0.png" for a in upscaled)
    for path in prints:
        with Image.open(path) as image:
            assert image.size == (4096, 4096)


@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_an_unanswered_review_upscales_nothing(tengr_emulator: TengrEmulator, tmp_path: Path) -> None:
    conf = {"photo_base_url": f"{tengr_emulator.url}/samples", "output_path": tmp_path.as_uri()}

    with Reviewer(let_the_deadline_pass):
        outcome = run_dag(DAG_ID, conf)

    assert outcome.state == "success", outcome.task_states
    assert outcome.return_values["review"]["chosen_options"] == ["None of these"]
    assert outcome.return_values["picked"] == []
    assert outcome.task_states["upscale"] == "skipped"
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 4}
    assert print_files(tmp_path) == []
