"""The batch ledger: segments replayed in order, written whole, folded into snapshots, keyed without tries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tengr_provider.batch import ledger as records
from tengr_provider.batch.items import Item
from tengr_provider.batch.ledger import COMPACT_AFTER, LEASE_GRACE, BatchLedger, Head, TaskKey
from tengr_provider.batch.outcome import ItemState, Outcome
from tengr_provider.storage import as_storage_path

KEY = TaskKey("catalog", "manual__2026-01-01T00:00:00+00:00", "restyle", 3)


def ledger_in(tmp_path: Path) -> BatchLedger:
    ledger = BatchLedger.for_task(tmp_path.as_uri(), KEY)
    ledger.write_head(Head(1, "sha256:abc", "photo-pilot", 3, 0))
    return ledger


def reopened(tmp_path: Path) -> BatchLedger:
    """The ledger as another try (another process) finds it."""
    ledger = BatchLedger.for_task(tmp_path.as_uri(), KEY)
    head = ledger.read_head()
    assert head is not None
    ledger.use(head.generation)
    return ledger


def test_the_folder_is_keyed_by_dag_run_task_and_map_index_never_the_try(tmp_path: Path) -> None:
    root = BatchLedger.for_task(tmp_path.as_uri(), KEY).root
    assert str(root) == (
        f"{tmp_path.as_uri()}/_tengr_batch/catalog/manual__2026-01-01T00:00:00+00:00/restyle/3"
    )


def test_characters_that_would_make_folders_are_replaced() -> None:
    assert TaskKey("d", "run/with space", "t").parts() == ("d", "run_with_space", "t", "-1")


def test_records_written_in_segments_replay_in_order_in_a_new_try(tmp_path: Path) -> None:
    ledger = ledger_in(tmp_path)
    ledger.append([records.intent(0, "sha256:a", 100.0), records.intent(1, "sha256:b", 100.0)])
    ledger.append([records.made(0, "art-0"), records.made(1, "art-1")])
    ledger.append([records.ended(0, Outcome.SUCCEEDED, files=["file:///o/art-0_0.png"], results=["u"])])
    ledger.append([records.ended(1, Outcome.FAILED, error="ended with status 'failed'")])
    ledger.append([records.intent(1, "sha256:b", 200.0)])  # a retry creates it again

    state = reopened(tmp_path).load()
    assert state.items[0] == ItemState(
        artwork_id="art-0",
        outcome=Outcome.SUCCEEDED,
        files=["file:///o/art-0_0.png"],
        results=["u"],
        attempts=1,
    )
    assert state.items[1] == ItemState(intent_at=200.0, attempts=2)
    assert state.segments_read == 5


def test_an_intent_without_its_answer_stays_an_intent(tmp_path: Path) -> None:
    ledger = ledger_in(tmp_path)
    ledger.append([records.intent(2, "sha256:c", 123.5)])
    item = reopened(tmp_path).load().items[2]
    assert (item.intent_at, item.artwork_id, item.made) == (123.5, None, False)


def test_a_new_session_writes_after_what_it_read(tmp_path: Path) -> None:
    ledger_in(tmp_path).append([records.intent(0, "sha256:a", 1.0)])
    second = reopened(tmp_path)
    second.load()
    second.append([records.made(0, "art-0")])
    names = sorted(path.name for path in (tmp_path / "_tengr_batch").rglob("*.jsonl") if "log" in path.parts)
    assert [name.split("-")[0] for name in names] == ["0000000001", "0000000002"]
    assert reopened(tmp_path).load().items[0].artwork_id == "art-0"


def test_a_segment_that_fails_to_write_leaves_nothing_behind(tmp_path: Path) -> None:
    ledger = ledger_in(tmp_path)
    ledger.append([records.intent(0, "sha256:a", 1.0)])
    with pytest.raises(TypeError):  # the second record cannot be written: the segment is abandoned
        ledger.append([records.intent(1, "sha256:b", 2.0), {"k": "made", "i": 1, "id": object()}])
    assert len(list(ledger.log_folder.iterdir())) == 1  # the first segment; no half segment, no .part
    assert 1 not in reopened(tmp_path).load().items


def test_a_long_log_is_folded_into_a_snapshot_that_replays_the_same(tmp_path: Path) -> None:
    ledger = ledger_in(tmp_path)
    for index in range(COMPACT_AFTER + 1):
        ledger.append(
            [records.intent(index, f"sha256:{index}", float(index)), records.made(index, f"art-{index}")]
        )
    before = reopened(tmp_path).load()  # reads every segment, then folds them
    log = ledger.log_folder
    assert [path.name.endswith(".snapshot.jsonl") for path in log.iterdir()] == [True]

    after = reopened(tmp_path)
    state = after.load()
    assert state.items == before.items
    assert state.segments_read == 1
    after.append([records.ended(0, Outcome.SUCCEEDED)])
    assert reopened(tmp_path).load().items[0].outcome is Outcome.SUCCEEDED


def test_items_are_staged_then_committed_to_a_generation(tmp_path: Path) -> None:
    ledger = BatchLedger.for_task(tmp_path.as_uri(), KEY)
    items = [Item(0, {"imageUrl": "https://a"}, "sha256:a"), Item(1, problems=("effort: too high",))]
    scratch = ledger.stage_items(iter(items))
    ledger.commit_items(scratch, 2)
    ledger.use(2)
    assert list(ledger.items()) == items
    assert not as_storage_path(str(scratch)).exists()


@pytest.mark.parametrize(
    ("outcome", "artwork_id", "after"),
    [
        (Outcome.SUCCEEDED, "a", ItemState(artwork_id="a", outcome=Outcome.SUCCEEDED)),
        (Outcome.FAILED, "a", ItemState()),  # created again
        (Outcome.REJECTED, None, ItemState()),
        (Outcome.STORE_FAILED, "a", ItemState(artwork_id="a")),  # its images copied again
        (Outcome.TIMED_OUT, "a", ItemState(artwork_id="a")),  # waited for again
    ],
)
def test_a_new_try_takes_up_only_what_failed(
    outcome: Outcome, artwork_id: str | None, after: ItemState
) -> None:
    state = ItemState(artwork_id=artwork_id, outcome=outcome)
    state.start_try()
    assert state == after


def test_a_lost_create_that_timed_out_is_looked_up_again_by_the_next_try() -> None:
    state = ItemState(intent_at=5.0, outcome=Outcome.TIMED_OUT)
    state.start_try()
    assert state == ItemState(intent_at=5.0)


def test_a_segment_a_killed_writer_never_put_in_place_is_dropped(tmp_path: Path) -> None:
    ledger = ledger_in(tmp_path)
    ledger.append([records.intent(0, "sha256:a", 1.0)])
    stale = ledger.log_folder / ".0000000002-dead.jsonl.4f3a.part"
    stale.write_text('{"k":"made","i":0,"id":"never-durable"}\n')
    assert reopened(tmp_path).load().items[0].artwork_id is None
    assert not stale.exists()


def test_a_new_try_takes_the_lease_and_the_earlier_one_sees_it_lost(tmp_path: Path) -> None:
    earlier, later = ledger_in(tmp_path), reopened(tmp_path)
    assert earlier.take_lease() == 0  # nobody held it
    assert earlier.holds_lease()
    # The earlier try's worker was lost but its task process may still run: wait before reading.
    assert later.take_lease() == LEASE_GRACE
    assert not earlier.holds_lease()
    assert later.holds_lease()


def test_a_released_or_stale_lease_costs_no_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ledger_in(tmp_path)
    first.take_lease()
    first.release_lease()
    assert reopened(tmp_path).take_lease() == 0
    monkeypatch.setattr(time, "time", lambda: 1e12)  # the holder stopped refreshing long ago
    assert reopened(tmp_path).take_lease() == 0
