"""What a batch leaves behind: the manifest, the contact sheet, the counts, the failure policy, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tengr_provider.batch.items import Item
from tengr_provider.batch.ledger import BatchLedger, TaskKey
from tengr_provider.batch.outcome import Counts, FailurePolicy, ItemState, Outcome
from tengr_provider.batch.report import CONTACT_SHEET_LIMIT, BatchReport, manifest_lines

KEY = TaskKey("catalog", "manual__1", "restyle")


def test_the_manifest_has_one_line_per_item_in_order_with_what_became_of_it() -> None:
    items = [
        Item(0, {"a": 1}, "sha256:0"),
        Item(1, problems=("effort: too high",)),
        Item(2, {"a": 2}, "sha256:2"),
    ]
    states = {0: ItemState(artwork_id="art-0", outcome=Outcome.SUCCEEDED, files=["s3://b/art-0_0.png"])}
    outcomes: list[Outcome] = []
    lines = [json.loads(line) for line in manifest_lines(items, states, outcomes)]
    assert lines == [
        {
            "index": 0,
            "fingerprint": "sha256:0",
            "artwork_id": "art-0",
            "status": "succeeded",
            "files": ["s3://b/art-0_0.png"],
            "results": [],
            "error": None,
        },
        {
            "index": 1,
            "fingerprint": None,
            "artwork_id": None,
            "status": "invalid",
            "files": [],
            "results": [],
            "error": "effort: too high",
        },
        {
            "index": 2,
            "fingerprint": "sha256:2",
            "artwork_id": None,
            "status": "not_started",
            "files": [],
            "results": [],
            "error": None,
        },
    ]
    assert Counts.of(outcomes).to_json()["total"] == 3


def test_the_contact_sheet_shows_the_first_results_linked_relative_to_itself(tmp_path: Path) -> None:
    output = tmp_path.as_uri()
    ledger = BatchLedger.for_task(output, KEY)
    items = [Item(n, {"n": n}, f"sha256:{n}") for n in range(CONTACT_SHEET_LIMIT + 5)]
    ledger.commit_items(ledger.stage_items(iter(items)), 1)
    ledger.use(1)
    states = {
        n: ItemState(artwork_id=f"art-{n}", outcome=Outcome.SUCCEEDED, files=[f"{output}/art-{n}_0.png"])
        for n in range(CONTACT_SHEET_LIMIT + 5)
    }
    report = BatchReport.for_task(output, KEY)
    counts = report.write(ledger, states, "catalog")
    assert counts.by_outcome["succeeded"] == CONTACT_SHEET_LIMIT + 5
    sheet = Path(str(report.contact_sheet).removeprefix("file://"))
    page = sheet.read_text()
    assert page.count("<img ") == CONTACT_SHEET_LIMIT
    assert 'src="../../../../../art-0_0.png"' in page
    assert (sheet.parent / "../../../../../art-0_0.png").resolve() == tmp_path / "art-0_0.png"
    assert str(report.manifest) == f"{output}/_tengr_manifests/catalog/manual__1/restyle/-1/manifest.jsonl"


@pytest.mark.parametrize(
    ("policy", "failed", "fails"),
    [
        (FailurePolicy(), 0, False),
        (FailurePolicy(), 1, True),  # the default: anything missing fails the task
        (FailurePolicy(max_failed_share=0.02), 2, False),
        (FailurePolicy(max_failed_share=0.02), 3, True),
        (FailurePolicy(fail_on_partial_error=False), 100, False),
    ],
)
def test_the_failure_policy(policy: FailurePolicy, failed: int, fails: bool) -> None:
    outcomes = [Outcome.FAILED] * failed + [Outcome.SUCCEEDED] * (100 - failed) + [Outcome.INVALID] * 7
    assert policy.fails(Counts.of(outcomes)) is fails


def test_a_failed_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_failed_share: must be between 0 and 1"):
        FailurePolicy(max_failed_share=2)


def test_lineage_is_summarized_to_the_input_file_the_folder_and_the_manifest() -> None:
    from tengr_provider.lineage import RUN_FACET_NAME, batch_on_complete

    summary = {
        "manifest": "s3://bucket/out/_tengr_manifests/d/r/t/-1/manifest.jsonl",
        "counts": {"succeeded": 9},
    }
    lineage = batch_on_complete("s3://bucket/in/catalog.csv", "s3://bucket/out", summary, "photo-pilot")
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("s3://bucket", "in/catalog.csv")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("s3://bucket", "out"),
        ("s3://bucket", "out/_tengr_manifests/d/r/t/-1/manifest.jsonl"),
    ]
    assert lineage.run_facets[RUN_FACET_NAME].request["counts"] == {"succeeded": 9}
