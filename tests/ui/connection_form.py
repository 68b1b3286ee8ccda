"""What a person does in Admin → Connections, shared by the UI tier's tests on every Airflow it runs."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.standalone import StandaloneAirflow

#: What the api-server does for Test: the stored connection, handed to the hook as an environment
#: connection (a hook outside a task cannot read the metadata database through the Task SDK).
READ_THROUGH_THE_HOOK = """
import os, sys
from airflow.models.connection import Connection
from tengr_provider.hooks.tengr import TengrHook
conn_id = sys.argv[1]
os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = Connection.get_connection_from_secrets(conn_id).get_uri()
settings = TengrHook(conn_id).settings
print(settings.timeout, settings.base_url)
"""


def open_add_form(page: Any, airflow: StandaloneAirflow, conn_id: str) -> Any:
    page.goto(f"{airflow.url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=connection_id]").fill(conn_id)
    dialog.get_by_role("combobox").fill("tengr")
    page.get_by_role("option", name="tengr.ai").click()
    return dialog


def fill_the_form_checking_what_it_shows(dialog: Any, airflow: StandaloneAirflow, key_value: str) -> None:
    """Check what the tengr.ai form shows (labels, placeholders, the key masked, nothing tengr does not
    use), type the emulator's URL and ``key_value``, and open the extra fields, checking their labels."""
    host, key = dialog.locator("input[name=host]"), dialog.locator("input[name=password]")
    assert dialog.get_by_text("Base URL", exact=True).is_visible()
    assert dialog.get_by_text("API key", exact=True).is_visible()
    assert host.get_attribute("placeholder") == "https://api.tengr.ai"
    assert key.get_attribute("placeholder") == "your tengr.ai API key"
    assert key.get_attribute("type") == "password"
    for hidden in ("schema", "login", "port"):
        assert dialog.locator(f"input[name={hidden}]").count() == 0, hidden
    host.fill(airflow.emulator_url)
    key.fill(key_value)
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    labels = [text.strip() for text in dialog.locator("label").all_inner_texts() if text.strip()]
    for label in (
        "Timeout (seconds)",
        "Max retries",
        "Backoff (seconds)",
        "API version",
        "Path overrides (JSON)",
    ):
        assert label in labels, label


def save(page: Any, dialog: Any, conn_id: str) -> None:
    """Press Save and wait until the connection list shows ``conn_id``."""
    dialog.get_by_role("button", name="Save").click()
    page.get_by_role("row").filter(has_text=conn_id).wait_for()


def save_and_read_back(
    page: Any, dialog: Any, airflow: StandaloneAirflow, conn_id: str, key: str
) -> dict[str, Any]:
    """Save, then read the connection as stored: a tengr connection to the emulator, no port (the form
    hides it), and the key never shown."""
    save(page, dialog, conn_id)
    stored = airflow.connection(conn_id)
    assert (stored["conn_type"], stored["host"], stored["port"]) == ("tengr", airflow.emulator_url, None)
    assert key not in json.dumps(stored)
    return stored


def add_connection(page: Any, airflow: StandaloneAirflow, conn_id: str, key: str) -> None:
    dialog = open_add_form(page, airflow, conn_id)
    dialog.locator("input[name=host]").fill(airflow.emulator_url)
    dialog.locator("input[name=password]").fill(key)
    save(page, dialog, conn_id)


def press_test(page: Any, conn_id: str) -> tuple[int, dict[str, Any], str]:
    """Press the row's Test button; return the api-server's status and answer, and the toast shown."""
    row = page.get_by_role("row").filter(has_text=conn_id)
    toasts = page.locator("[data-scope=toast][data-part=root]").filter(has_text="Test Connection")
    shown = toasts.count()
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    toast = toasts.nth(shown)
    toast.wait_for()
    page.wait_for_timeout(700)  # the toast slides in; the screenshot shows it whole
    text = toast.inner_text()
    return answer.value.status, answer.value.json(), text


def store_port_zero(airflow: StandaloneAirflow, conn_id: str) -> None:
    """The documented workaround for Airflow 3.3.2 (docs/connection.md): store port 0 once."""
    answer = airflow.call(
        "PATCH",
        f"/connections/{conn_id}",
        params={"update_mask": "port"},
        json={"connection_id": conn_id, "conn_type": "tengr", "port": 0},
    )
    assert answer.status_code == 200, answer.text


def hook_settings(airflow: StandaloneAirflow, conn_id: str) -> list[str]:
    """The timeout and base URL ``TengrHook`` resolves from the connection as ``airflow`` stored it."""
    resolved = subprocess.run(
        [str(airflow.airflow_bin / "python"), "-c", READ_THROUGH_THE_HOOK, conn_id],
        env=airflow.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resolved.returncode == 0, resolved.stderr[-2000:]
    return resolved.stdout.splitlines()[-1].split()
