"""Batch items: read as a stream from lists, JSON Lines and CSV; validated before anything is sent;
fingerprinted so that a changed input is recognised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tengr_provider.batch.items import (
    LISTED_PROBLEMS,
    InputSummary,
    TengrBatchValidationError,
    raw_items,
    validated,
)
from tengr_provider.models import PhotoPilotRequest, UpscalingRequest, parse_request


def prepare(raw: Any) -> dict[str, Any]:
    return parse_request(UpscalingRequest, raw).to_api()


def summarize(raw: list[Any]) -> tuple[list[Any], InputSummary]:
    summary = InputSummary("upscaling")
    return list(validated(raw, prepare, summary)), summary


def upscale(n: int, **extra: Any) -> dict[str, Any]:
    return {"image_url": f"https://img.example/{n}.png", **extra}


def test_either_spelling_and_models_give_the_same_body_and_fingerprint() -> None:
    items, _ = summarize(
        [
            {"image_url": "https://img.example/a.png", "scale_factor": 4},
            {"imageUrl": "https://img.example/a.png", "scaleFactor": 4},
            UpscalingRequest(image_url="https://img.example/a.png", scale_factor=4),
        ]
    )
    assert {json.dumps(item.body, sort_keys=True) for item in items} == {
        '{"imageUrl": "https://img.example/a.png", "scaleFactor": 4}'
    }
    assert len({item.fingerprint for item in items}) == 1


def test_the_input_fingerprint_follows_every_item_and_their_order() -> None:
    base = [upscale(0), upscale(1)]
    fingerprints = {
        summarize(base)[1].fingerprint,
        summarize([upscale(1), upscale(0)])[1].fingerprint,  # reordered
        summarize([upscale(0), upscale(1, scale_factor=3)])[1].fingerprint,  # one field moved
        summarize([upscale(0)])[1].fingerprint,  # one item fewer
    }
    assert len(fingerprints) == 4
    assert summarize(base)[1].fingerprint == summarize([dict(item) for item in base])[1].fingerprint


def test_a_bad_batch_lists_the_first_twenty_bad_items_by_index_field_and_rule_and_counts_them() -> None:
    raw = [upscale(n, scale_factor=9 if n % 2 else 2) for n in range(60)]
    items, summary = summarize(raw)
    assert (summary.count, summary.invalid, summary.valid) == (60, 30, 30)
    message = str(summary.error())
    assert message.startswith("30 of 60 batch items are invalid")
    assert "item 1: scale_factor (scaleFactor): Input should be less than or equal to 8" in message
    assert message.count("\n  item ") == LISTED_PROBLEMS
    assert "... and 10 more" in message
    assert isinstance(summary.error(), TengrBatchValidationError)
    assert items[1].body is None
    assert items[1].fingerprint is None


def test_json_lines_are_read_one_line_at_a_time_and_a_broken_line_is_a_bad_item(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(
        json.dumps(upscale(0)) + "\n\n" + "{not json\n" + "[1, 2]\n" + json.dumps(upscale(3)) + "\n"
    )
    items, _summary = summarize(list(raw_items(None, source.as_uri())))
    assert [item.body is not None for item in items] == [True, False, False, True]
    assert items[1].problems[0].startswith("line 3: not JSON")
    assert items[2].problems == ("line 4: not a JSON object",)


def test_a_csv_row_is_an_item_with_text_values_and_empty_cells_left_out(tmp_path: Path) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text(
        "image_url,image_guidance,modification,creativity,effort,prompt,high_resolution\n"
        "https://img.example/shoe.png,1,3,3,2,red shoe on white,\n"
        "https://img.example/mug.png,1,3,3,2,,true\n"
        "https://img.example/hat.png,1,3,3,2,hat,,extra\n"
    )
    summary = InputSummary("photo-pilot")
    items = list(
        validated(
            raw_items(None, str(source)),
            lambda raw: parse_request(PhotoPilotRequest, raw).to_api(),
            summary,
        )
    )
    assert items[0].body == {
        "imageUrl": "https://img.example/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 3,
        "effort": 2,
        "prompt": "red shoe on white",
    }
    assert items[1].body is not None
    assert items[1].body["highResolution"] is True
    assert items[2].problems == ("line 4: more cells than the header names",)


@pytest.mark.parametrize(
    ("requests", "requests_path", "message"),
    [
        (None, None, "give exactly one"),
        ([upscale(0)], "file:///tmp/x.jsonl", "give exactly one"),
        ("file:///tmp/x.jsonl", None, "use requests_path"),
        (None, "file:///tmp/items.parquet", "must end in .jsonl, .ndjson, .csv"),
    ],
)
def test_the_input_is_exactly_one_list_or_one_file(requests: Any, requests_path: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(raw_items(requests, requests_path))
