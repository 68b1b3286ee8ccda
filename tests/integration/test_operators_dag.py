"""Operators, sensor and trigger through real Airflow (``dag.test()``) against the local emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from tests.helpers import HAS_TASK_STATE_STORE, LogText, docs_dag_blocks
from tests.integration.dag_runner import run_dag

from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]


def local_files(uris: list[str]) -> list[Path]:
    assert all(uri.startswith("file://") for uri in uris), uris
    return [Path(uri.removeprefix("file://")) for uri in uris]


def assert_images(paths: list[Path], size: tuple[int, int], image_format: str = "PNG") -> None:
    for path in paths:
        with Image.open(path) as image:
            image.load()
            assert (image.format, image.size) == (image_format, size), path


def no_partial_files(folder: Path) -> bool:
    return not any(p.name.endswith(".part") for p in folder.rglob("*"))


@pytest.mark.parametrize("mode", ["poll", "deferrable"])
@pytest.mark.tengr_emulator(processing_seconds=0.5)
def test_mapped_restyle_then_upscale_writes_every_image_once(
    tengr_emulator: TengrEmulator, tmp_path: Path, mode: str
) -> None:
    outcome = run_dag(f"it_chain_{mode}", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    assert sorted(outcome.task_states) == [
        f"{task}[{n}]" for task in ("restyle", "upscale") for n in range(3)
    ]
    restyled = [outcome.return_values[f"restyle[{n}]"] for n in range(3)]
    upscaled = [outcome.return_values[f"upscale[{n}]"] for n in range(3)]
    assert {artwork["status"] for artwork in restyled} == {"succeeded"}
    assert {artwork["status"] for artwork in upscaled} == {"done"}
    assert_images([p for a in restyled for p in local_files(a["files"])], (1024, 1024))
    assert_images([p for a in upscaled for p in local_files(a["files"])], (2048, 2048))
    assert sorted(p.name for p in (tmp_path / "restyled").iterdir()) == sorted(
        f"{a['id']}_0.png" for a in restyled
    )
    assert no_partial_files(tmp_path)
    stats = tengr_emulator.stats()
    assert stats.artworks_created_by_type == {"photo_pilot": 3, "upscaling": 3}
    # Under dag.test() each deferred task's trigger runs alone in its own event loop, where the shared
    # status poller reads a lone wait by id (the list pays off for more waits than its spot checks).
    assert stats.count("GET /v1/artworks/{id}", 200) >= 3


@pytest.mark.tengr_emulator(processing_seconds=0.2)
def test_style_dna_copies_the_image_before_it_expires(tengr_emulator: TengrEmulator, tmp_path: Path) -> None:
    outcome = run_dag("it_style_dna", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "success", outcome.task_states
    result = outcome.return_values["style"]
    assert {"imageUrl", "expiresAt", "creditsUsed", "files"} <= set(result)
    (path,) = local_files(result["files"])
    assert path.name.startswith("style-dna_")
    with Image.open(path) as image:
        assert image.format == "WEBP"
        width, height = image.size
    assert abs(width / height - 16 / 9) < 0.02


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
@pytest.mark.tengr_emulator(processing_seconds=1.5)
def test_sensor_waits_for_a_submitted_artwork(tengr_emulator: TengrEmulator, mode: str) -> None:
    outcome = run_dag(f"it_sensor_{mode}")
    assert outcome.state == "success", outcome.task_states
    submitted, sensed = outcome.return_values["submit"], outcome.return_values["wait"]
    assert submitted["status"] == "starting"
    assert sensed["id"] == submitted["id"]
    assert sensed["status"] == "succeeded"
    assert tengr_emulator.stats().artworks_created == 1


@pytest.mark.tengr_emulator(processing_seconds=1.6)
def test_retry_after_wait_timeout_picks_up_the_same_artwork(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    outcome = run_dag("it_resume_after_wait_timeout", {"output_path": tmp_path.as_uri()})
    assert outcome.tries["restyle"] == 2
    created = tengr_emulator.stats().artworks_created
    if HAS_TASK_STATE_STORE:
        assert outcome.state == "success", outcome.task_states
        assert created == 1, "the retry must reconnect to the artwork the first try created"
        assert outcome.return_values["restyle"]["id"] == tengr_emulator.stats().artworks[0].id
    else:
        # Below Airflow 3.3 there is no task state store: each try creates anew (documented), and here
        # the second artwork, too, outlasts its one-second wait.
        assert outcome.state == "failed"
        assert created == 2


@pytest.mark.parametrize("mode", ["poll", "deferrable"])
@pytest.mark.tengr_emulator(processing_seconds=0.3, failure_rate=1.0)
def test_failed_artworks_fail_their_tasks_naming_them(
    tengr_emulator: TengrEmulator, tmp_path: Path, mode: str, logs: LogText
) -> None:
    outcome = run_dag(f"it_chain_{mode}", {"output_path": tmp_path.as_uri()})
    assert outcome.state == "failed"
    assert {outcome.task_states[f"restyle[{n}]"] for n in range(3)} == {"failed"}
    # Airflow 3.0 prints tracebacks in colour, boxed and wrapped: compare the bare words.
    logged = " ".join(re.sub(r"\x1b\[[0-9;]*m|[│╭╮╰╯─]", " ", logs()).split())
    for artwork in tengr_emulator.stats().artworks:
        assert f"tengr.ai artwork {artwork.id} ended with status 'failed'" in logged
    assert not any((tmp_path / "restyled").glob("*")) if (tmp_path / "restyled").exists() else True


@pytest.mark.parametrize("file_name", sorted(docs_dag_blocks()))
@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_every_dag_in_the_docs_runs(tengr_emulator: TengrEmulator, file_name: str) -> None:
    dag_id = _dag_id(docs_dag_blocks()[file_name])
    outcome = run_dag(dag_id)
    assert outcome.state == "success", outcome.task_states


def _dag_id(code: str) -> str:
    match = re.search(r"""DAG\(\s*["']([^"']+)["']""", code) or re.search(r"def (\w+)\(", code)
    assert match, "a docs DAG must name its dag_id"
    return match.group(1)
