"""Admin → Connections, as a person uses it: the tengr.ai form, Save, the Test button, an edit.

Airflow 3.3.2's connection list sends the stored port of the connection to test as ``Number(port)``,
so a connection saved without a port (ours hides the field) is tested with port 0 against a stored
null, and the api-server refuses it (apache/airflow PR #73298, fixed after 3.3.2). The test checks
that defect where it exists, the documented workaround (store port 0), and the green Test either way.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.standalone import API_KEY, StandaloneAirflow
from tests.ui.conftest import screenshot
from tests.ui.connection_form import (
    add_connection,
    fill_the_form_checking_what_it_shows,
    hook_settings,
    open_add_form,
    press_test,
    save_and_read_back,
    store_port_zero,
)

pytestmark = pytest.mark.ui

#: What the UI's list sends for a connection saved without a port, and what 3.3.2 answers.
REFUSED = "The host or port to test differs from the stored connection."


def test_the_form_shows_only_what_tengr_uses(page: Any, airflow: StandaloneAirflow) -> None:
    dialog = open_add_form(page, airflow, "tengr_ui")
    fill_the_form_checking_what_it_shows(dialog, airflow, API_KEY)
    # The form keeps the bounds the hook checks: 0 s of backoff is not accepted (it was, as an
    # ``exclusiveMinimum``, which the form ignores).
    backoff = dialog.locator("input[name=element_backoff_initial]")
    assert backoff.get_attribute("aria-valuemin") == "0.01"
    backoff.fill("0")
    backoff.blur()
    assert backoff.input_value() == "0.01"
    backoff.fill("1")
    screenshot(page, "connection-form")
    save_and_read_back(page, dialog, airflow, "tengr_ui", API_KEY)


def test_test_button_is_green_against_the_emulator(page: Any, airflow: StandaloneAirflow) -> None:
    add_connection(page, airflow, "tengr_test_ok", API_KEY)
    status, answer, toast = press_test(page, "tengr_test_ok")
    if status == 400:
        # Airflow 3.3.2: the list sent port 0 for the stored null, and the api-server refused it.
        assert REFUSED in answer["detail"]
        assert "Bad Request" in toast
        screenshot(page, "connection-test-airflow-3.3.2-bad-request")
        store_port_zero(airflow, "tengr_test_ok")
        page.reload()
        status, answer, toast = press_test(page, "tengr_test_ok")
    assert status == 200, answer
    assert answer["status"] is True, answer
    assert "the API key was accepted" in toast
    screenshot(page, "connection-test-ok")


def test_test_button_names_the_api_key_when_it_is_wrong(page: Any, airflow: StandaloneAirflow) -> None:
    add_connection(page, airflow, "tengr_test_bad", "tk-not-the-key")
    store_port_zero(airflow, "tengr_test_bad")
    page.reload()
    status, answer, toast = press_test(page, "tengr_test_bad")
    assert (status, answer["status"]) == (200, False), answer
    assert "check the API key" in toast
    assert "Bad Request" not in toast
    assert "tk-not-the-key" not in toast
    screenshot(page, "connection-test-wrong-key")


def test_an_extra_changed_in_the_form_reaches_the_hook(page: Any, airflow: StandaloneAirflow) -> None:
    add_connection(page, airflow, "tengr_edit", API_KEY)
    row = page.get_by_role("row").filter(has_text="tengr_edit")
    row.get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    timeout = dialog.locator("input[name=element_timeout]")
    timeout.fill("7.5")
    timeout.blur()
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="hidden")
    assert hook_settings(airflow, "tengr_edit") == ["7.5", airflow.emulator_url]
