"""The OpenLineage events of a real run list the source images as inputs and the stored files as outputs.

``airflow dags test`` runs in its own process with a file transport configured, so the OpenLineage
listener is registered from the start (the provider reads its settings once per process).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import airflow_cli

from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]


def complete_events(log_file: Path) -> dict[str, dict[str, Any]]:
    """The COMPLETE event of each task run, keyed ``task_id[map_index]``."""
    events = {}
    for line in log_file.read_text().splitlines():
        event = json.loads(line)
        if event["eventType"] != "COMPLETE" or "." not in event["job"]["name"]:
            continue
        airflow = event["run"]["facets"]["airflow"]
        key = f"{airflow['task']['task_id']}[{airflow['taskInstance'].get('map_index', -1)}]"
        events[key] = event
    return events


def uris(datasets: list[dict[str, Any]]) -> set[str]:
    """The datasets as URIs again (OpenLineage names files ``file`` + path, others ``origin`` + path)."""
    return {f"{d['namespace']}{'://' if d['namespace'] == 'file' else '/'}{d['name']}" for d in datasets}


@pytest.mark.timeout(400)
@pytest.mark.tengr_emulator(processing_seconds=0.3)
def test_a_runs_events_read_the_sources_and_write_the_stored_files(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    log_file = tmp_path / "openlineage.jsonl"
    output = tmp_path / "out"
    transport = {"type": "file", "log_file_path": str(log_file), "append": True}
    airflow_cli(
        "dags",
        "test",
        "it_chain_poll",
        "--conf",
        json.dumps({"output_path": output.as_uri()}),
        env={
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "it",
        },
        timeout=360,
    )
    events = complete_events(log_file)
    stored = {p.as_uri() for p in output.rglob("*") if p.is_file()}
    assert stored
    assert not any(uri.endswith(".part") for uri in stored)
    for n in range(3):
        restyle, upscale = events[f"restyle[{n}]"], events[f"upscale[{n}]"]
        assert uris(restyle["inputs"]) == {f"{tengr_emulator.url}/samples/shoe-{n}.png"}
        facet = restyle["run"]["facets"]["tengr"]
        assert facet["artworkType"] == "photo_pilot"
        assert facet["artworkId"]
        assert facet["request"]["imageUrl"] == f"{tengr_emulator.url}/samples/shoe-{n}.png"
        (restyled,) = uris(restyle["outputs"])
        assert restyled.startswith((output / "restyled").as_uri())
        (printed,) = uris(upscale["outputs"])
        assert printed.startswith((output / "print").as_uri())
        assert upscale["run"]["facets"]["tengr"]["artworkType"] == "upscaling"
    outputs = {uri for event in events.values() for uri in uris(event["outputs"])}
    assert outputs == stored, "every stored file, and only stored files (no .part), is an output"
