"""Admin → Connections on the oldest supported Airflow (the floor, 3.0.6), in the browser.

Airflow 3.0 and 3.1 build the form's extra fields from the hook's ``get_connection_form_widgets()`` and
``get_ui_field_behaviour()`` (the api-server reads them with wtforms mocked, so only string, integer,
password and boolean fields survive), not from ``conn-fields`` in the provider info as 3.2+ does.
These tests drive that legacy path as a person would. Airflow 3.0's connection list has no Test
button (Edit and Delete only), so what Test means there is the api-server's answer for the stored
connection, ``POST /api/v2/connections/test``, as any client sends it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.standalone import API_KEY, StandaloneAirflow
from tests.ui.conftest import log_in, screenshot
from tests.ui.connection_form import (
    add_connection,
    fill_the_form_checking_what_it_shows,
    hook_settings,
    open_add_form,
    save_and_read_back,
)

pytestmark = pytest.mark.ui

#: The floor venv's programs; ``make test-ui`` installs it and names it here.
FLOOR_BIN = os.environ.get("TENGR_UI_FLOOR_BIN", "")


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneAirflow]:
    if not (Path(FLOOR_BIN) / "airflow").exists():
        pytest.fail("TENGR_UI_FLOOR_BIN names no Airflow: run `make test-ui` (it installs the floor venv)")
    root = tmp_path_factory.mktemp("ui-floor")
    # No example DAGs: the form needs none, and the review example needs Airflow 3.1+.
    with StandaloneAirflow(root, airflow_bin=Path(FLOOR_BIN), examples=False) as running:
        yield running


@pytest.fixture(scope="module")
def floor_page(floor: StandaloneAirflow, chromium: Callable[[], Any]) -> Iterator[Any]:
    page = log_in(chromium(), floor).new_page()
    try:
        yield page
    finally:
        page.close()


def test_it_is_the_legacy_form_path(floor: StandaloneAirflow) -> None:
    version = floor.call("GET", "/version").json()["version"]
    major, minor = (int(part) for part in version.split(".")[:2])
    assert (major, minor) < (3, 2), f"{version} builds the form from conn-fields, not the hook's methods"


def test_the_legacy_form_shows_only_what_tengr_uses_and_the_hook_reads_it(
    floor_page: Any, floor: StandaloneAirflow
) -> None:
    dialog = open_add_form(floor_page, floor, "tengr_floor")
    fill_the_form_checking_what_it_shows(dialog, floor, API_KEY)
    # The form shows the hook's defaults, as 3.2+ does: a switch left off here would read as "off"
    # for a setting that is on unless changed.
    timeout = dialog.locator("input[name=element_timeout]")
    assert timeout.input_value() == "60"
    assert dialog.locator("input[name=element_retry_creates]").is_checked()
    assert not dialog.locator("input[name=element_allow_insecure_webhooks]").is_checked()
    assert "v1" in dialog.get_by_role("combobox").all_inner_texts()  # API version: a select of v1, v2
    timeout.fill("7.5")
    timeout.blur()
    screenshot(floor_page, "connection-form-airflow-3.0.6")
    stored = save_and_read_back(floor_page, dialog, floor, "tengr_floor", API_KEY)
    extra = json.loads(stored["extra"])
    assert (extra["retry_creates"], extra["api_version"]) == (True, "v1")
    assert hook_settings(floor, "tengr_floor") == ["7.5", floor.emulator_url]


def test_no_test_button_on_3_0_and_its_api_server_tests_the_saved_connection(
    floor_page: Any, floor: StandaloneAirflow
) -> None:
    add_connection(floor_page, floor, "tengr_floor_test", API_KEY)
    row = floor_page.get_by_role("row").filter(has_text="tengr_floor_test")
    assert row.get_by_role("button", name="Edit Connection").count() == 1
    assert row.get_by_role("button", name="Test Connection").count() == 0

    stored = floor.connection("tengr_floor_test")
    sent = {field: stored[field] for field in ("connection_id", "conn_type", "host", "port", "extra")}
    answer = floor.call("POST", "/connections/test", json={**sent, "password": API_KEY})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] is True, answer.json()
    assert "the API key was accepted" in answer.json()["message"]

    answer = floor.call("POST", "/connections/test", json={**sent, "password": "tk-not-the-key"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] is False
    assert "check the API key" in answer.json()["message"]
    assert "tk-not-the-key" not in answer.json()["message"]
