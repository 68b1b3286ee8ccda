"""``tengr_catalog_refresh`` from the Trigger button, and a mapped task instance's result link.

Airflow's UI shows only http(s) extra links, so with the example's ``file://`` output_path the link
is the API's URL of the image (the stored file is in the task's return value); following it shows the
image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from tests.standalone import StandaloneAirflow
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.ui

DAG_ID = "tengr_catalog_refresh"


def test_trigger_button_then_the_result_link_of_a_mapped_task(page: Any, airflow: StandaloneAirflow) -> None:
    page.goto(f"{airflow.url}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    # No logical date, as the issue asks: the run must work from templates every kind of run has.
    dialog.get_by_test_id("datetime-input").click()
    page.get_by_role("button", name="Clear start date").click()
    dialog.get_by_text(f"Trigger Dag - {DAG_ID}").click()
    screenshot(page, "catalog-trigger")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/dagRuns")) as sent:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert sent.value.status == 200, sent.value.text()
    run = sent.value.json()
    assert run["logical_date"] is None
    run_id = run["dag_run_id"]
    airflow.wait_for_run(DAG_ID, run_id)

    page.goto(f"{airflow.url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/restyle/mapped/0/details")
    link = page.get_by_role("link", name="tengr.ai result image", exact=True)
    link.wait_for()
    assert page.get_by_role("link", name="tengr.ai result image 2").count() == 0  # one image, one link
    screenshot(page, "catalog-result-link")
    href = str(link.get_attribute("href"))
    assert href.startswith(f"{airflow.emulator_url}/files/"), href
    entry = airflow.call(
        "GET",
        f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/restyle/xcomEntries/return_value",
        params={"map_index": 0, "deserialize": True},
    ).json()
    result = entry["value"]
    assert result["results"] == [href]
    stored = Path(urlsplit(result["files"][0]).path)
    assert stored.is_file()

    with page.context.expect_page() as opened:
        link.click()
    image_page = opened.value
    image_page.wait_for_load_state()
    width = image_page.eval_on_selector("img", "img => img.naturalWidth")
    assert width > 0
    image_page.close()
