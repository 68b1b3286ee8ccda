"""OpenLineage from the operators: source images in, stored files out, the artwork as a run facet."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tengr_provider import lineage
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator

PHOTO = {"image_guidance": 1, "modification": 3, "creativity": 2, "effort": 2, "aspect_ratio": "1:1"}


def finished(task: Any, result: dict[str, Any] | None) -> Any:
    """The task as it is once ``execute`` returned ``result`` (the operator keeps it for lineage)."""
    if result is not None:
        task._announce({}, result)
    return task


def names(datasets: list[Any]) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def test_on_start_names_the_source_image_and_the_request() -> None:
    task = TengrPhotoPilotOperator(task_id="t", image_url="https://cdn.example.com/shoes/a.png", **PHOTO)
    facets = task.get_openlineage_facets_on_start()
    assert names(facets.inputs) == [("https://cdn.example.com", "shoes/a.png")]
    assert facets.outputs == []
    run = facets.run_facets[lineage.RUN_FACET_NAME]
    assert (run.artworkId, run.artworkType) == (None, "photo_pilot")
    assert run.request["imageUrl"] == "https://cdn.example.com/shoes/a.png"


def test_on_complete_lists_the_stored_files_as_outputs_and_the_artwork_as_a_facet() -> None:
    task = TengrUpscaleOperator(task_id="t", image_url="https://cdn.example.com/a.png", scale_factor=2)
    result = {
        "id": "art-9",
        "artworkType": "upscaling",
        "results": ["https://api.example.com/r/art-9_0.png?sig=secret"],
        "files": ["file:///data/print/art-9_0.png", "s3://bucket/print/art-9_1.png"],
    }
    facets = finished(task, result).get_openlineage_facets_on_complete(None)
    assert names(facets.inputs) == [("https://cdn.example.com", "a.png")]
    assert names(facets.outputs) == [
        ("file", "/data/print/art-9_0.png"),
        ("s3://bucket", "print/art-9_1.png"),
    ]
    run = facets.run_facets[lineage.RUN_FACET_NAME]
    assert (run.artworkId, run.artworkType) == ("art-9", "upscaling")
    assert run.request == {"imageUrl": "https://cdn.example.com/a.png", "scaleFactor": 2}


def test_style_dna_reads_its_anchor_image() -> None:
    task = TengrStyleDnaOperator(
        task_id="t",
        visual_prompt="neon",
        anchor_image_url="https://cdn.example.com/anchor.png",
        description="x",
    )
    facets = finished(task, {"imageUrl": "https://api/x.png"}).get_openlineage_facets_on_complete(None)
    assert names(facets.inputs) == [("https://cdn.example.com", "anchor.png")]
    assert facets.outputs == []
    assert facets.run_facets[lineage.RUN_FACET_NAME].artworkType == "style_dna"


def test_a_task_without_a_result_has_inputs_but_no_outputs() -> None:
    task = TengrUpscaleOperator(task_id="t", image_url="https://cdn.example.com/a.png")
    facets = finished(task, None).get_openlineage_facets_on_complete(None)
    assert names(facets.inputs) == [("https://cdn.example.com", "a.png")]
    assert facets.outputs == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://user:pw@cdn.example.com:8443/a.png?X-Amz-Signature=abc#top",
            "https://cdn.example.com:8443/a.png",
        ),
        ("http://127.0.0.1:8099/samples/shoe-0.png", "http://127.0.0.1:8099/samples/shoe-0.png"),
    ],
)
def test_urls_reach_lineage_without_credentials_or_query(url: str, expected: str) -> None:
    task = TengrUpscaleOperator(task_id="t", image_url=url)
    facets = task.get_openlineage_facets_on_start()
    (dataset,) = facets.inputs
    assert f"{dataset.namespace}/{dataset.name}" == expected
    assert facets.run_facets[lineage.RUN_FACET_NAME].request["imageUrl"] == expected


def test_the_run_facet_serializes_like_any_openlineage_facet() -> None:
    from openlineage.client.serde import Serde

    task = TengrUpscaleOperator(task_id="t", image_url="https://cdn.example.com/a.png")
    facet = finished(task, {"id": "art-1"}).get_openlineage_facets_on_complete(None).run_facets["tengr"]
    as_json = Serde.to_dict(facet)
    assert as_json["artworkId"] == "art-1"
    assert as_json["_schemaURL"].endswith("assets-and-lineage.md#openlineage")


@pytest.mark.timeout(120)
def test_the_operators_work_without_openlineage_installed() -> None:
    code = (
        "import sys\n"
        # Without the OpenLineage client, nothing of OpenLineage can be imported.
        "sys.modules['openlineage'] = None\n"
        "from tengr_provider.operators import TengrUpscaleOperator\n"
        "import tengr_provider.lineage\n"
        "TengrUpscaleOperator(task_id='t', image_url='https://cdn.example.com/a.png')\n"
        "assert 'airflow.providers.openlineage.extractors' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr
