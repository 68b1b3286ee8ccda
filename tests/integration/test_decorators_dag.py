"""``@task.tengr_*`` through real Airflow (``dag.test()``) against the local emulator.

The DAGs are in ``dags/it_decorators.py``. A decorated task must behave and return exactly like the
operator it wraps: same artwork JSON, same files, same waiting (on the worker or in the triggerer).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from tests.helpers import LogText
from tests.integration.dag_runner import run_dag

from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]


def local_files(uris: list[str]) -> list[Path]:
    assert all(uri.startswith("file://") for uri in uris), uris
    return [Path(uri.removeprefix("file://")) for uri in uris]


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()
        return image.size


@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_each_decorator_returns_what_its_operator_returns(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    outcome = run_dag("it_decorated_plain", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    restyled, upscaled, styled = (outcome.return_values[t] for t in ("restyle", "upscale", "style"))
    assert (restyled["status"], restyled["artworkType"]) == ("succeeded", "photo_pilot")
    assert restyled["parameters"]["imageUrl"].endswith("/samples/bag.png")
    assert (upscaled["status"], upscaled["parameters"]["imageUrl"]) == ("done", restyled["results"][0])
    assert {"imageUrl", "expiresAt", "creditsUsed"} <= set(styled)
    assert [p.name for p in local_files(restyled["files"])] == [f"{restyled['id']}_0.png"]
    assert image_size(local_files(upscaled["files"])[0]) == (2048, 2048)
    assert local_files(styled["files"])[0].suffix == ".webp"
    assert tengr_emulator.stats().artworks_created_by_type == {
        "photo_pilot": 1,
        "upscaling": 1,
        "style_dna": 1,
    }


@pytest.mark.parametrize("mode", ["poll", "deferrable"])
@pytest.mark.tengr_emulator(processing_seconds=0.5)
def test_mapped_decorators_restyle_and_upscale_every_product_once(
    tengr_emulator: TengrEmulator, tmp_path: Path, mode: str
) -> None:
    outcome = run_dag(f"it_decorated_mapped_{mode}", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    expanded = [outcome.return_values[f"restyle[{n}]"] for n in range(2)]
    partial = [outcome.return_values["restyle_partial[0]"]]
    assert [a["parameters"]["prompt"] for a in expanded] == ["studio shot of shoe-0", "studio shot of shoe-1"]
    assert partial[0]["parameters"]["prompt"] == "soft daylight of shoe-2"
    upscaled = [outcome.return_values[f"upscale[{n}]"] for n in range(2)]
    upscaled_x4 = outcome.return_values["upscale_partial[0]"]
    assert [a["parameters"]["imageUrl"] for a in upscaled] == [a["results"][0] for a in expanded]
    assert [image_size(p) for a in upscaled for p in local_files(a["files"])] == [(2048, 2048)] * 2
    assert [image_size(p) for p in local_files(upscaled_x4["files"])] == [(4096, 4096)]
    assert sorted(p.name for p in (tmp_path / "restyled").iterdir()) == sorted(
        f"{a['id']}_0.png" for a in [*expanded, *partial]
    )
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 3, "upscaling": 3}


def deferred_artwork_ids() -> set[str]:
    """Artworks some task waited for in the triggerer (``dag.test()`` leaves the trigger rows behind)."""
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    with create_session() as session:
        # The artwork triggers only: a batch test run earlier leaves its (many-artwork) trigger rows too.
        classpath = "tengr_provider.triggers.artwork.TengrArtworkTrigger"
        triggers = session.query(Trigger).filter(Trigger.classpath == classpath).all()
        return {str(trigger.kwargs["artwork_id"]) for trigger in triggers}


@pytest.mark.tengr_emulator(processing_seconds=1.5)
def test_deferred_decorated_tasks_wait_in_the_trigger_and_finish_from_its_event(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    outcome = run_dag("it_decorated_mapped_deferrable", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    restyled = [outcome.return_values[f"restyle[{n}]"] for n in range(2)]
    # Each artwork outlasted a poll, so its task deferred; the task resumed in execute_complete, a new
    # process without the function's request, and still stored the images and returned the artwork.
    assert {artwork["id"] for artwork in restyled} <= deferred_artwork_ids()
    assert {outcome.tries[f"restyle[{n}]"] for n in range(2)} == {1}
    assert [len(local_files(artwork["files"])) for artwork in restyled] == [1, 1]
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 3, "upscaling": 3}


@pytest.mark.tengr_emulator(processing_seconds=0.2)
def test_style_dna_decorator_maps_with_expand_and_partial(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    outcome = run_dag("it_decorated_style_dna_mapped", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    results = [
        outcome.return_values[f"{task}[{n}]"] for task in ("styled", "styled_partial") for n in range(3)
    ]
    assert len({uri for r in results for uri in r["files"]}) == 6, "six requests, six distinct files"
    assert tengr_emulator.stats().artworks_created_by_type == {"style_dna": 6}


@pytest.mark.tengr_emulator(processing_seconds=0.2)
def test_a_returned_request_that_breaks_a_rule_fails_before_any_request(
    tengr_emulator: TengrEmulator, logs: LogText
) -> None:
    outcome = run_dag("it_decorated_invalid_request")
    assert outcome.state == "failed"
    assert outcome.task_states["restyle_too_much"] == "failed"
    logged = " ".join(re.sub(r"\x1b\[[0-9;]*m|[│╭╮╰╯─]", " ", logs()).split())
    assert "TengrRequestValidationError" in logged
    assert "modification: Input should be less than or equal to 5" in logged
    assert tengr_emulator.stats().count("POST /v1/artworks/photo-pilot") == 0
