"""A batch in one task through real Airflow (``dag.test()``: scheduler loop, task runner, triggers
inline): 1,000 artworks, and a crash between the creates and their record that resumes without paying
twice, both counted by the emulator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.integration.dag_runner import run_dag

from tengr_provider.operators import TengrBatchOperator
from tengr_provider.operators._batch_run import WAVE_MAX, BatchRun
from tengr_provider.testing import TengrEmulator
from tengr_provider.triggers.batch import TengrBatchTrigger

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("airflow_db"),
    pytest.mark.tengr_emulator(processing_seconds=0.3),
]


def manifest_lines(tmp_path: Path) -> list[dict[str, Any]]:
    (manifest,) = (tmp_path / "_tengr_manifests").rglob("manifest.jsonl")
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def ledger_records(tmp_path: Path) -> list[dict[str, Any]]:
    segments = sorted((tmp_path / "_tengr_batch").rglob("log/*.jsonl"))
    return [json.loads(line) for segment in segments for line in segment.read_text().splitlines()]


def test_a_batch_of_1000_runs_in_one_task(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deferrals: list[tuple[float, TengrBatchTrigger]] = []
    defer = TengrBatchOperator.defer

    def recording(self: TengrBatchOperator, *, trigger: TengrBatchTrigger, **kwargs: Any) -> None:
        deferrals.append((time.time(), trigger))
        defer(self, trigger=trigger, **kwargs)

    monkeypatch.setattr(TengrBatchOperator, "defer", recording)
    outcome = run_dag("it_batch", {"count": 1000, "output_path": tmp_path.as_uri()})

    assert outcome.state == "success", outcome.task_states
    assert outcome.tries["batch"] == 1
    summary = outcome.return_values["batch"]
    assert summary["counts"]["succeeded"] == summary["counts"]["total"] == 1000
    assert len(json.dumps(summary)) < 2048  # a summary, never one entry per item
    assert len(deferrals) <= 1000 // 200 + 2  # at most about one deferral per max_in_flight
    for deferred_at, trigger in deferrals:
        # dag.test() has no executor report to race: the settle is 0, the event still carries its time.
        assert trigger.not_before is not None
        assert deferred_at - 1 <= trigger.not_before <= time.time()
        assert len(trigger.artwork_ids) <= 200
    created = {artwork.id for artwork in tengr_emulator.stats().artworks}
    assert len(created) == 1000
    lines = manifest_lines(tmp_path)
    assert [line["index"] for line in lines] == list(range(1000))
    assert {line["artwork_id"] for line in lines} == created
    assert sorted(path.name for path in tmp_path.glob("*.png")) == sorted(f"{i}_0.png" for i in created)
    assert not list(tmp_path.rglob("*.part"))


def test_a_crash_between_create_and_record_resumes_without_duplicates(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = WAVE_MAX + 50
    made = BatchRun._made
    crashed: list[int] = []

    def crash_once(self: BatchRun, index: int, *args: Any, **kwargs: Any) -> None:
        if not crashed:  # the first wave's creates went out; not one of their ids is recorded
            crashed.append(index)
            raise RuntimeError("worker lost between create and record")
        made(self, index, *args, **kwargs)

    monkeypatch.setattr(BatchRun, "_made", crash_once)
    outcome = run_dag("it_batch", {"count": count, "output_path": tmp_path.as_uri()})

    assert outcome.state == "success", outcome.task_states
    assert outcome.tries["batch"] == 2
    stats = tengr_emulator.stats()
    assert stats.artworks_created == count  # zero duplicates
    # The creates of the first wave that went out before the crash were found in the artworks list and
    # adopted; those it never sent were created once, by the retry.
    adopted = [record for record in ledger_records(tmp_path) if record.get("adopted")]
    assert 0 < len(adopted) <= WAVE_MAX
    assert {line["artwork_id"] for line in manifest_lines(tmp_path)} == {a.id for a in stats.artworks}
    assert len(list(tmp_path.glob("*.png"))) == count
