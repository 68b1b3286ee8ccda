"""The review example's Required Actions page, as the person who picks the variants sees it.

Every candidate image must render (not only its URL); picking two variants upscales exactly those.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from tests.helpers import wait_for
from tests.standalone import StandaloneAirflow
from tests.ui.conftest import screenshot

from tengr_provider.testing.app import SAMPLES_PREFIX

pytestmark = pytest.mark.ui

DAG_ID = "tengr_review_before_print"
PICKS = ["sneaker-red: studio", "mug-ceramic: lifestyle"]  # the 1st and the 4th variant


def return_value(airflow: StandaloneAirflow, run_id: str, task_id: str, map_index: int) -> Any:
    path = f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
    answer = airflow.call("GET", path, params={"map_index": map_index, "deserialize": True})
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_the_review_shows_every_image_and_upscales_the_two_picked(
    page: Any, airflow: StandaloneAirflow
) -> None:
    conf = {"photo_base_url": f"{airflow.emulator_url}{SAMPLES_PREFIX.rstrip('/')}"}
    run_id = airflow.trigger(DAG_ID, conf)

    def review_waits() -> bool:
        states = {ti["task_id"]: ti["state"] for ti in airflow.task_instances(DAG_ID, run_id)}
        assert states.get("review") not in ("failed", "upstream_failed"), states
        return states.get("review") == "awaiting_input"

    wait_for(review_waits, 180, "the review to wait for a person", every=1)
    page.goto(f"{airflow.url}/required_actions")
    page.get_by_role("link", name="Which variants go to print?").first.click()
    page.get_by_role("button", name="Respond").wait_for()
    page.wait_for_function(
        "() => { const i = [...document.images].filter(i => i.src.includes('/files/'));"
        " return i.length === 4 && i.every(x => x.complete); }"
    )
    images = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => i.src.includes('/files/')).map(i => [i.src, i.naturalWidth])"
    )
    rendered = [return_value(airflow, run_id, "render", n) for n in range(4)]
    assert sorted(src for src, _ in images) == sorted(a["results"][0] for a in rendered)
    assert all(width > 0 for _, width in images), images

    choices = page.get_by_role("combobox", name="Select one or multiple values")
    for pick in PICKS:
        choices.click()
        page.get_by_role("option", name=pick, exact=True).click()
    screenshot(page, "review-page")
    page.get_by_role("button", name="Respond").click()
    airflow.wait_for_run(DAG_ID, run_id)

    upscaled = [
        ti
        for ti in airflow.task_instances(DAG_ID, run_id)
        if ti["task_id"] == "upscale" and ti["map_index"] >= 0
    ]
    assert len(upscaled) == len(PICKS), upscaled
    sources = sorted(return_value(airflow, run_id, "upscale", n)["parameters"]["imageUrl"] for n in range(2))
    assert sources == sorted(rendered[n]["results"][0] for n in (0, 3))
