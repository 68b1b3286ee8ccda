"""``make demo``'s contact sheet, opened in Chromium: every image of a real run loads.

The run is the demo's pipeline (``tengr_catalog_refresh`` against the emulator, with the emulator's
sample photos) in the tier's Airflow; the sheet is written by the same code as ``make demo``'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from scripts.contact_sheet import chain_rows, write_contact_sheet
from tests.standalone import StandaloneAirflow
from tests.ui.conftest import screenshot

from tengr_provider.testing.app import SAMPLES_PREFIX

pytestmark = pytest.mark.ui

DAG_ID = "tengr_catalog_refresh"
PHOTOS = ["sneaker-red", "mug-ceramic"]


def fetch(url: str, target: Path) -> None:
    answer = requests.get(url, timeout=60)
    answer.raise_for_status()
    target.write_bytes(answer.content)


def test_every_image_of_the_contact_sheet_loads(
    page: Any, airflow: StandaloneAirflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_output = airflow.output / "demo-run"
    photos = [f"{airflow.emulator_url}{SAMPLES_PREFIX}{name}.png?width=256&height=256" for name in PHOTOS]
    run_id = airflow.trigger(DAG_ID, {"product_photos": photos, "output_path": run_output.as_uri()})
    airflow.wait_for_run(DAG_ID, run_id)
    # As make demo does: the hook reads the run's artworks through the same connection.
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", airflow.env()["AIRFLOW_CONN_TENGR_DEFAULT"])
    from tengr_provider.hooks.tengr import TengrHook

    hook = TengrHook()
    rows = chain_rows(run_output, lambda artwork_id: hook.get_artwork(artwork_id).to_api(), fetch)
    sheet = write_contact_sheet(run_output, rows, f"{DAG_ID} — {run_id}")
    stored = sorted(p for p in run_output.rglob("*") if p.is_file() and p != sheet)
    assert len(stored) == 3 * len(PHOTOS), [p.name for p in stored]  # source, restyled, print

    page.goto(sheet.as_uri())
    page.wait_for_load_state("load")
    images = page.eval_on_selector_all(
        "img",
        "imgs => imgs.map(i => ({src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}))",
    )
    assert len(images) == len(stored), json.dumps(images)
    assert sorted(i["src"] for i in images) == sorted(p.relative_to(run_output).as_posix() for p in stored)
    assert all(i["complete"] and i["width"] > 0 for i in images), json.dumps(images)
    screenshot(page, "contact-sheet")
