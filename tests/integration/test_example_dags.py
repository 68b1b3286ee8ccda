"""Every example DAG imports cleanly and runs to success against the local emulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.helpers import EXAMPLE_DAG_FILES, HAS_HUMAN_IN_THE_LOOP
from tests.integration.dag_runner import dag_bag, run_dag

from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]


def test_example_dags_import_without_errors() -> None:
    bag = dag_bag()
    examples = {f.name for f in EXAMPLE_DAG_FILES}
    assert not {path: err for path, err in bag.import_errors.items() if os.path.basename(path) in examples}
    assert {
        "tengr_catalog_refresh",
        "tengr_style_dna_campaign",
        "tengr_campaign_publish",
        "tengr_submit_then_sense",
        "tengr_catalog_batch",
        "tengr_catalog_batch_publish",
        *(["tengr_review_before_print"] if HAS_HUMAN_IN_THE_LOOP else []),
    } <= set(bag.dag_ids)


def asset_event_extras(uri: str, run_id: str) -> list[dict[str, Any]]:
    """The ``extra`` of every event of asset ``uri`` that the run ``run_id`` emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            dict(event.extra)
            for event in session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri == uri, AssetEvent.source_run_id == run_id)
        ]


@pytest.mark.tengr_emulator(processing_seconds=0.5)
def test_catalog_refresh_restyles_upscales_and_stores(
    tengr_emulator: TengrEmulator, api_version: str, tmp_path: Path
) -> None:
    outcome = run_dag("tengr_catalog_refresh", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    summary = outcome.return_values["summary"]
    assert summary["artworks"] == 3
    prints = sorted((tmp_path / "print").iterdir())
    assert len(prints) == 3
    for path in prints:
        with Image.open(path) as image:
            assert image.size == (4096, 4096)
    assert len(list((tmp_path / "restyled").iterdir())) == 3
    upscaling = {"v1": "upscaling", "v2": "upscaling_v2"}[api_version]  # V2 waits for its upscales
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 3, upscaling: 3}
    assert tengr_emulator.stats().count(f"POST /{api_version}/artworks/upscaling") == 3
    # The upscale operator's own outlet: one event per mapped task, naming its artwork and file.
    extras = asset_event_extras("tengr://catalog/print-ready", outcome.run_id)
    assert sorted(uri for extra in extras for uri in extra["files"]) == sorted(p.as_uri() for p in prints)
    assert sorted(extra["artwork_id"] for extra in extras) == sorted(
        artwork["id"]
        for artwork in outcome.return_values.values()
        if isinstance(artwork, dict) and artwork.get("artworkType") == upscaling
    )


@pytest.mark.tengr_emulator(processing_seconds=0.2)
def test_style_dna_campaign_stores_every_image(
    tengr_emulator: TengrEmulator, api_version: str, tmp_path: Path
) -> None:
    outcome = run_dag("tengr_style_dna_campaign", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    # One return shape whatever the version: V2's artwork id is the only addition.
    for image in (value for key, value in outcome.return_values.items() if key.startswith("render")):
        assert image["imageUrl"].startswith(tengr_emulator.url)
        assert set(image) == {"imageUrl", "expiresAt", "creditsUsed", "artworkId", "files"}
        assert (image["artworkId"] is None) == (api_version == "v1")
    images = list(tmp_path.rglob("*.webp"))
    assert len(images) == 3
    assert tengr_emulator.stats().artworks_created_by_type == {"style_dna": 3}
    assert tengr_emulator.stats().count(f"POST /{api_version}/style-dna/generate") == 3
    # One asset event for the campaign lists every stored file: what the publishing DAG reads.
    (extra,) = asset_event_extras("tengr://campaign/images", outcome.run_id)
    assert sorted(extra["files"]) == sorted(p.as_uri() for p in images)


@pytest.mark.tengr_emulator(processing_seconds=1)
def test_submit_then_sense_waits_in_both_modes(tengr_emulator: TengrEmulator, api_version: str) -> None:
    outcome = run_dag("tengr_submit_then_sense")
    assert outcome.state == "success", outcome.task_states
    artwork_id = outcome.return_values["submit"]["id"]
    assert outcome.return_values["wait_rescheduling"]["id"] == artwork_id
    assert outcome.return_values["wait_deferred"]["status"] == "succeeded"
    assert tengr_emulator.stats().artworks_created == 1


@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_catalog_batch_restyles_the_csv_and_upscales_what_succeeded_in_two_tasks(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tengr_provider.testing.pytest_plugin import CONNECTION_ENV

    # API V2 only (both versions' batches are covered in test_batch_operator.py): the suite's budget.
    monkeypatch.setenv(CONNECTION_ENV, tengr_emulator.connection_json_for("v2"))
    outcome = run_dag("tengr_catalog_batch", {"output_path": tmp_path.as_uri(), "sample_size": 12})
    assert outcome.state == "success", outcome.task_states
    assert set(outcome.task_states) == {"catalog", "restyle", "print_requests", "upscale_for_print"}
    restyle, upscale = outcome.return_values["restyle"], outcome.return_values["upscale_for_print"]
    assert restyle["counts"]["succeeded"] == upscale["counts"]["succeeded"] == 12
    (run_folder,) = tmp_path.iterdir()
    prints = sorted((run_folder / "print").glob("*.png"))
    assert len(prints) == 12
    with Image.open(prints[0]) as image:
        assert image.size == (1024, 1024)
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 12, "upscaling_v2": 12}
    # The publish DAG's trigger: one event carrying the manifest and the counts, not 12 file lists.
    (extra,) = asset_event_extras("tengr://catalog/batch-print-ready", outcome.run_id)
    assert extra["manifest"] == upscale["manifest"]
    assert extra["counts"]["succeeded"] == 12
