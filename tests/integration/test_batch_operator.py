"""TengrBatchOperator against the emulator, executed as the task runner would (no scheduler): what is
created, stored, refused and resumed, counted by the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import FakeTaskInstance, FakeTaskStateStore

from tengr_provider.batch.items import TengrBatchValidationError
from tengr_provider.exceptions import (
    TengrBatchCostError,
    TengrBatchInputChangedError,
    TengrBatchPartialError,
)
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.operators import TengrBatchOperator
from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.tengr_emulator(processing_seconds=0.2)]


class BatchTaskInstance(FakeTaskInstance):
    """The task instance of one batch task: the ledger's key comes from it."""

    dag_id, run_id, task_id, map_index = "it_batch_direct", "manual__2026-01-01T00:00:00+00:00", "batch", -1


def run_batch(output: Path, requests: Any, **kwargs: Any) -> dict[str, Any]:
    """One try of a batch task; returns its summary (or raises what the task would fail with)."""
    store = kwargs.pop("store", None)
    operator = TengrBatchOperator(
        task_id="batch",
        endpoint=kwargs.pop("endpoint", "photo-pilot"),
        requests=requests,
        output_path=output.as_uri(),
        poll_interval=0.1,
        deferrable=False,
        **kwargs,
    )
    context: dict[str, Any] = {"ti": BatchTaskInstance(), "task_state_store": store}
    return operator.execute(context)  # type: ignore[arg-type]


def photo(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "image_url": f"https://images.example.com/{n}.png",
        "image_guidance": 1,
        "modification": 2,
        "creativity": 2,
        "effort": 2,
        "width": 512,
        "height": 512,
        **extra,
    }


def manifest(summary: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(summary["manifest"].removeprefix("file://"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def creates(emulator: TengrEmulator) -> int:
    return emulator.stats().count("POST /v1/artworks/photo-pilot")


def test_every_item_is_created_once_and_stored_and_the_manifest_says_so(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    summary = run_batch(tmp_path, [photo(n) for n in range(30)], max_in_flight=8)
    assert summary["counts"]["succeeded"] == summary["counts"]["total"] == 30
    lines = manifest(summary)
    assert [line["index"] for line in lines] == list(range(30))
    created = {artwork.id for artwork in tengr_emulator.stats().artworks}
    assert {line["artwork_id"] for line in lines} == created
    assert len(created) == 30
    stored = sorted(path.name for path in tmp_path.glob("*.png"))
    assert stored == sorted(f"{artwork_id}_0.png" for artwork_id in created)
    assert not list(tmp_path.rglob("*.part"))
    sheet = Path(summary["contact_sheet"].removeprefix("file://")).read_text()
    assert sheet.count("<img ") == 30
    assert f'src="../../../../../{stored[0]}"' in sheet


def test_a_bad_item_fails_the_batch_before_anything_is_sent(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    items = [photo(n, effort=9 if n in (3, 17) else 2) for n in range(20)]
    with pytest.raises(TengrBatchValidationError, match=r"2 of 20 batch items are invalid") as refused:
        run_batch(tmp_path, items)
    assert "item 3: effort: Input should be less than or equal to 5" in str(refused.value)
    assert "item 17: effort" in str(refused.value)
    assert tengr_emulator.stats().requests_total == 0


def test_skip_invalid_records_bad_items_and_sends_the_rest(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    items = [photo(n, effort=9 if n == 1 else 2) for n in range(4)]
    summary = run_batch(tmp_path, items, skip_invalid=True)
    assert (summary["counts"]["succeeded"], summary["counts"]["invalid"]) == (3, 1)
    assert manifest(summary)[1]["status"] == "invalid"
    assert "effort" in manifest(summary)[1]["error"]
    assert creates(tengr_emulator) == 3


def test_the_cost_guard_refuses_to_start_saying_how_many_it_would_create(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    with pytest.raises(TengrBatchCostError, match=r"would create 12 new artworks .* max_new_artworks=10"):
        run_batch(tmp_path, [photo(n) for n in range(12)], max_new_artworks=10)
    assert tengr_emulator.stats().requests_total == 0


def test_a_retry_creates_nothing_that_exists_and_a_changed_input_is_refused(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    items = [photo(n) for n in range(6)]
    first = run_batch(tmp_path, items)
    again = run_batch(tmp_path, items, max_new_artworks=0)  # a retry: everything is stored already
    assert again["counts"] == first["counts"]
    assert creates(tengr_emulator) == 6

    moved = [photo(n, prompt="new season") for n in range(6)]
    with pytest.raises(TengrBatchInputChangedError, match="Set fresh=True"):
        run_batch(tmp_path, moved)
    assert creates(tengr_emulator) == 6
    fresh = run_batch(tmp_path, moved, fresh=True)
    assert fresh["counts"]["succeeded"] == 6
    assert creates(tengr_emulator) == 12


def test_failed_artworks_fail_the_task_after_every_success_is_stored_and_a_retry_recreates_only_them(
    tengr_emulator_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = tengr_emulator_factory(processing_seconds=0.2, failure_rate=0.3, seed=4)
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", emulator.connection_json)
    with pytest.raises(TengrBatchPartialError, match=r"items failed") as failed:
        run_batch(tmp_path, [photo(n) for n in range(20)])
    (written,) = (tmp_path / "_tengr_manifests").rglob("manifest.jsonl")
    first = [json.loads(line) for line in written.read_text().splitlines()]
    failures = [line["index"] for line in first if line["status"] == "failed"]
    assert failures
    assert len(list(tmp_path.glob("*.png"))) == 20 - len(failures)
    assert f"{len(failures)} of 20 items failed" in str(failed.value)

    summary = run_batch(tmp_path, [photo(n) for n in range(20)], max_failed_share=1.0)
    assert emulator.stats().count("POST /v1/artworks/photo-pilot") == 20 + len(failures)
    again = manifest(summary)
    assert [line["artwork_id"] for line in again if line["index"] not in failures] == [
        line["artwork_id"] for line in first if line["index"] not in failures
    ]


def test_the_task_state_store_holds_a_pointer_and_counts(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    store = FakeTaskStateStore()
    summary = run_batch(tmp_path, [photo(n) for n in range(3)], store=store)
    pointer = store["tengr_batch"]
    assert pointer["ledger"] == summary["ledger"]
    assert pointer["counts"]["succeeded"] == 3
    assert len(json.dumps(pointer)) < 1024


def endpoint_items(endpoint: str, emulator: TengrEmulator, count: int) -> list[dict[str, Any]]:
    source = emulator.sample_image_url("source", width=256, height=256)
    if endpoint == "upscaling":
        return [{"image_url": source, "scale_factor": 2} for _ in range(count)]
    if endpoint == "style-dna":
        return [
            {
                "visual_prompt": "ink",
                "anchor_image_url": source,
                "description": f"cup {n}",
                "width": 512,
                "height": 512,
            }
            for n in range(count)
        ]
    if endpoint == "remove-background":
        return [{"imageUrl": source, "note": n} for n in range(count)]  # sent as given
    return [photo(n) for n in range(count)]


@pytest.mark.parametrize("endpoint", ["photo-pilot", "upscaling", "style-dna", "remove-background"])
def test_every_endpoint_under_both_api_versions(
    tengr_emulator: TengrEmulator, api_version: str, endpoint: str, tmp_path: Path
) -> None:
    summary = run_batch(tmp_path, endpoint_items(endpoint, tengr_emulator, 3), endpoint=endpoint)
    assert summary["counts"]["succeeded"] == 3
    assert tengr_emulator.stats().artworks_created == 3
    stored = sorted(path.name for path in tmp_path.glob("*.*"))
    if endpoint == "style-dna":  # named after the request, as TengrStyleDnaOperator names it
        assert len(stored) == 3
        assert all(name.startswith("style-dna_") for name in stored)
    else:
        assert stored == sorted(f"{line['artwork_id']}_0.png" for line in manifest(summary))


@pytest.mark.parametrize(("executor", "warned"), [("CeleryExecutor", True), ("LocalExecutor", False)])
def test_a_local_output_path_under_a_distributed_executor_is_warned_about(
    executor: str,
    warned: bool,
    tengr_emulator: TengrEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The ledger lives under output_path: a retry on another worker would not find it.
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    run_batch(tmp_path, [photo(0)])
    assert ("is a local folder, but tasks run under" in capfd.readouterr().out) is warned


def test_a_path_below_style_dna_goes_as_given_not_as_the_style_dna_call(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # style-dna/edit is a path below the version root, like any endpoint without a model: its items go
    # to create_artwork as given, never through the style-dna call (another model, another route).
    sent: list[str] = []
    create_artwork = TengrHook.create_artwork

    def create_elsewhere(self: TengrHook, endpoint: str, request: Any) -> Any:
        sent.append(endpoint)
        return create_artwork(self, "remove-background", request)  # the emulator has no style-dna/edit

    def style_dna_call(self: TengrHook, request: Any) -> Any:
        pytest.fail("an item of style-dna/edit was sent as the style-dna call")

    monkeypatch.setattr(TengrHook, "create_artwork", create_elsewhere)
    monkeypatch.setattr(TengrHook, "submit_style_dna", style_dna_call)
    items = endpoint_items("remove-background", tengr_emulator, 3)
    summary = run_batch(tmp_path, items, endpoint="style-dna/edit")
    assert summary["counts"]["succeeded"] == 3
    assert sent == ["style-dna/edit"] * 3


@pytest.mark.tengr_emulator(processing_seconds=0.2, rate_limit=25)
def test_a_rate_limit_sets_one_pace_and_nothing_is_created_twice(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    summary = run_batch(tmp_path, [photo(n) for n in range(60)], max_in_flight=60)
    stats = tengr_emulator.stats()
    assert summary["counts"]["succeeded"] == 60
    assert stats.count("POST /v1/artworks/photo-pilot", 202) == stats.artworks_created == 60
    assert stats.count("POST /v1/artworks/photo-pilot", 429) > 0


@pytest.mark.tengr_emulator(processing_seconds=0.2, gateway_timeout_rate=0.3, error_rate=0.1, seed=3)
def test_creates_whose_answer_was_lost_are_found_and_adopted_not_paid_twice(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tengr_provider.operators import _batch_run

    monkeypatch.setattr(_batch_run, "RECONCILE_DELAY", 0.1)
    source = tengr_emulator.sample_image_url("source", width=256, height=256)
    items = [{"image_url": source, "scale_factor": 2 + n % 7} for n in range(20)]
    summary = run_batch(tmp_path, items, endpoint="upscaling")  # V1: answered at once, or 504 after the work
    stats = tengr_emulator.stats()
    assert stats.count("POST /v1/artworks/upscaling", 504) > 0  # created, answer lost
    assert summary["counts"]["succeeded"] == 20
    assert stats.artworks_created == 20  # each 504's artwork was adopted, never created again
    assert {line["artwork_id"] for line in manifest(summary)} == {artwork.id for artwork in stats.artworks}


def test_the_decorated_function_returns_the_items_or_their_file(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    from airflow.sdk import DAG, task

    from tengr_provider import get_provider_info

    declared = {d["name"]: d["class-name"] for d in get_provider_info()["task-decorators"]}
    assert declared["tengr_batch"] == "tengr_provider.decorators.batch.tengr_batch_task"
    items_file = tmp_path / "items.jsonl"
    items_file.write_text("".join(json.dumps(photo(n)) + "\n" for n in range(2)))
    with DAG("it_batch_decorated", schedule=None):

        @task.tengr_batch(endpoint="photo-pilot", output_path=(tmp_path / "a").as_uri(), deferrable=False)
        def as_list(count: int) -> list[dict[str, Any]]:
            return [photo(n) for n in range(count)]

        @task.tengr_batch(endpoint="photo-pilot", output_path=(tmp_path / "b").as_uri(), deferrable=False)
        def as_file() -> str:
            return items_file.as_uri()

        listed, filed = as_list(3).operator, as_file().operator
    for operator in (listed, filed):
        operator.poll_interval = 0.1
    context: dict[str, Any] = {"ti": BatchTaskInstance()}
    assert listed.execute(context)["counts"]["succeeded"] == 3
    assert filed.execute(context)["counts"]["succeeded"] == 2
    assert creates(tengr_emulator) == 5
    with pytest.raises(TypeError, match="requests: the decorated function returns the items"):
        task.tengr_batch(endpoint="photo-pilot", output_path="file:///tmp/x", requests=[])


@pytest.mark.tengr_emulator(processing_seconds=0.2, rate_limit=20)
def test_a_try_left_running_by_a_lost_worker_stops_when_the_retry_takes_over(
    tengr_emulator: TengrEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from tengr_provider.batch import ledger
    from tengr_provider.operators._batch_run import BatchSupersededError

    monkeypatch.setattr(ledger, "LEASE_GRACE", 1.0)
    monkeypatch.setenv(  # creates time out after 2 s: the earlier try's last wave has surely ended then
        "AIRFLOW_CONN_TENGR_DEFAULT",
        json.dumps({**json.loads(tengr_emulator.connection_json), "extra": {"timeout": 2}}),
    )
    items = [photo(n) for n in range(120)]
    earlier: list[BaseException] = []

    def orphan() -> None:
        try:
            run_batch(tmp_path, items, max_in_flight=120)
        except BaseException as error:
            earlier.append(error)

    thread = threading.Thread(target=orphan)
    thread.start()  # R=20: its 120 creates take about 6 s; the retry takes over within 2
    wait = 0.0
    while creates(tengr_emulator) < 30 and wait < 30:
        threading.Event().wait(0.05)
        wait += 0.05
    summary = run_batch(tmp_path, items, max_in_flight=120)  # the retry, while the earlier try runs
    thread.join(60)

    assert [type(error) for error in earlier] == [BatchSupersededError]
    assert summary["counts"]["succeeded"] == 120
    assert tengr_emulator.stats().artworks_created == 120  # nothing paid twice
