"""API V2 and what the API may add, through real Airflow (``dag.test()``) against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from tests.integration.dag_runner import run_dag

from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.pytest_plugin import CONNECTION_ENV

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]


@pytest.mark.parametrize("mode", ["poll", "deferrable"])
@pytest.mark.tengr_emulator(processing_seconds=0.5, unknown_status="queued")
def test_an_unknown_status_then_success_finishes_every_task(
    tengr_emulator: TengrEmulator, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under V2 both photo-pilot and upscaling answer "queued" at creation and while in flight.
    monkeypatch.setenv(CONNECTION_ENV, tengr_emulator.connection_json_for("v2"))
    outcome = run_dag(f"it_chain_{mode}", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    finished = [
        value for key, value in outcome.return_values.items() if key.startswith(("restyle", "upscale"))
    ]
    assert len(finished) == 6
    assert {artwork["status"] for artwork in finished} == {"succeeded"}
    assert len(list((tmp_path / "print").iterdir())) == 3
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 3, "upscaling_v2": 3}


@pytest.mark.parametrize(("api_version", "mode"), [("v1", "poll"), ("v2", "deferrable")])
@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_any_other_artwork_endpoint_is_created_waited_for_and_stored(
    tengr_emulator: TengrEmulator,
    tmp_path: Path,
    api_version: str,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CONNECTION_ENV, tengr_emulator.connection_json_for(api_version))
    outcome = run_dag(f"it_other_endpoint_{mode}", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    artwork = outcome.return_values["cut_out"]
    assert (artwork["artworkType"], artwork["status"]) == ("remove_background", "succeeded")
    (stored,) = (tmp_path / "cutouts").iterdir()
    assert stored.name == f"{artwork['id']}_0.png"
    with Image.open(stored) as image:
        assert image.size == (640, 480)
    assert tengr_emulator.stats().count(f"POST /{api_version}/artworks/{{endpoint}}") == 1
