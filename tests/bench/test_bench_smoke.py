"""The benchmarks, shrunk to seconds, so the scripts behind ``docs/benchmarks.md`` never rot.

One ``python -m bench.run_all --smoke`` run (every benchmark in its own process, as ``make bench``
runs them), then one test per benchmark on its JSON line: the shape, and that nothing was lost,
doubled or fired twice. Timings are never asserted: the sizes are far too small to mean anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import REPO

#: The module's fixture runs every benchmark once (about 2 minutes on a 2-core machine): its first test
#: gets a longer ceiling than the suite's.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SMOKE_TIMEOUT = 360


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every benchmark's JSON line from one smoke run of ``bench.run_all``."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.run_all", "--smoke", "--timeout", "200", "--json-out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        check=False,
    )
    assert run.returncode == 0, f"bench.run_all --smoke failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    payload: dict[str, Any] = json.loads(Path(out).read_text())
    assert payload["errors"] == []
    assert payload["smoke"] is True
    return payload["results"]  # type: ignore[no-any-return]


def assert_targets_shape(result: dict[str, Any]) -> None:
    for judged in result["targets"].values():
        assert set(judged) == {"target", "value", "limit", "met"}
        assert isinstance(judged["met"], bool)


def test_every_benchmark_reports_one_json_line(smoke: dict[str, Any]) -> None:
    assert sorted(smoke) == [
        "batch_rate_limit",
        "batch_scale",
        "client_overhead",
        "triggerer_scale",
        "waiting_cost",
    ]
    for name, result in smoke.items():
        assert result["benchmark"] == name
        assert result["machine"]["cpus"] >= 1
        assert result["settings"]["smoke"] is True
        assert result["wall_seconds"] > 0
        assert_targets_shape(result)


def test_waiting_cost_finishes_every_artwork_once_in_every_variant(smoke: dict[str, Any]) -> None:
    result = smoke["waiting_cost"]
    artworks = result["settings"]["artworks"]
    assert sorted(result["variants"]) == ["a", "b", "c", "d"]
    for variant in result["variants"].values():
        assert variant["succeeded"] == artworks, variant["errors"]
        assert variant["artworks_created"] == artworks
        assert variant["api_calls_per_artwork"] >= 2  # one create, at least one read
        assert variant["slot_seconds_per_artwork"] > 0
    assert result["unfinished_threads"] == 0
    assert result["ratio_a_b"] > 0
    dag_test = result["dag_test"]
    assert dag_test["a"]["state"] == dag_test["b"]["state"] == "success"
    assert dag_test["a"]["worker_runs_per_artwork"] == 2  # defer, then resume
    assert dag_test["a"]["failed_tasks"] == dag_test["b"]["failed_tasks"] == 0


def test_triggerer_scale_fires_every_trigger_exactly_once(smoke: dict[str, Any]) -> None:
    cases = smoke["triggerer_scale"]["cases"]
    assert {case["kind"] for case in cases} == {"tengr", "tengr-per-id", "http"}
    assert {case["list_order"] for case in cases if case["kind"] == "tengr"} == {"newest", "shuffled"}
    for case in cases:
        assert case["fired_exactly_once"], case["events_per_trigger"]
        assert case["timed_out"] == case["crashed"] == 0
        if case["kind"] == "tengr":  # the shared poller: list calls, fewer than one per wait
            assert 0 < case["requests_per_trigger"] < 1
            assert case["list_calls"] >= 1
        else:
            assert case["requests_per_trigger"] >= 1
        assert case["peak_rss_mib"] >= case["rss_mib_before_triggers"] > 0
        assert case["cpu_seconds"] > 0
        assert case["lag_ms_p99"] is not None
    tengr = [case for case in cases if case["kind"].startswith("tengr")]
    assert all(case["event_outcomes"] == {"success": case["triggers"]} for case in tengr)


def test_batch_loses_nothing_and_doubles_nothing(smoke: dict[str, Any]) -> None:
    runs = smoke["batch_rate_limit"]["runs"]
    assert [run["harness"].split(",")[0] for run in runs] == ["concurrent", "concurrent", "dag.test()"]
    for run in runs:
        assert run["finished"], run
        assert run["task_failures"] == 0, run["failure_examples"]
        assert run["duplicates"] == 0
        assert run["artworks_created"] == run["artworks"]
        # every create, and at least one read; per-id polling reads each artwork at least once
        reads = run["artworks"] if "per-id" in run["harness"] else 1
        assert run["api_calls_answered_2xx"] >= run["artworks"] + reads


def test_client_overhead_measures_every_client_and_import(smoke: dict[str, Any]) -> None:
    result = smoke["client_overhead"]
    throughput = result["throughput"]
    assert {"http", "https"} <= set(throughput)
    assert any(transport.startswith("https_rtt_") for transport in throughput)
    for measured in throughput.values():
        rates = measured["median_rate"]
        assert set(rates) == {"tengr", "http", "http_fresh", "requests", "urllib3"}
        assert all(rate > 0 for rate in rates.values())
    for name in ("tengr", "http"):
        assert result["imports"][name]["with_sdk_seconds"] > result["imports"][name]["module_seconds"] > 0


def test_batch_scale_creates_and_stores_every_artwork_once_in_one_task(smoke: dict[str, Any]) -> None:
    result = smoke["batch_scale"]
    (batch,) = result["runs"]
    assert batch["error"] is None
    assert batch["counts"]["succeeded"] == batch["files_stored"] == batch["artworks"]
    assert batch["duplicates"] == batch["lost"] == 0
    assert 1 <= batch["executions"] <= batch["artworks"] / result["settings"]["max_in_flight"] + 2
    assert batch["summary_bytes"] < 2048  # a summary, whatever N
