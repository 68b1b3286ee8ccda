"""Fault injection: a batch of 30 artworks (photo-pilot → upscale → files) under one fault at a time.

Each case runs ``it_faults_poll`` or ``it_faults_deferrable`` (``tests/integration/dags/it_faults.py``)
through ``dag.test()`` against the emulator with one kind of fault switched on, then checks what a
night's unattended run needs: every healthy artwork's images are on disk and decode, every failed or
canceled artwork fails its own task with its id in the message, no partial file is left, and no
artwork was paid for twice unless a create was retried after an answer that may have come after the
work (then the surplus is bounded by the retries the emulator saw, and the hook said so in the log).

The modes alternate between faults instead of running every fault twice: the retry code is shared by
both transports and each mode sees every kind of answer at least once, at half the time.

Each case also scans what its own run produced (logs, return values, XComs, rendered fields, log
files) for the connection's API key, so no case depends on another having run; one more test scans
exception texts, reprs and the serialized trigger.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.helpers import SECRET_KEY, LogText
from tests.integration.dag_runner import DagRunOutcome, dag_bag, run_dag

from tengr_provider.exceptions import TengrServerError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.stats import EmulatorStats

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.usefixtures("airflow_db")]

BATCH = 30
CREATE_ROUTES = {"photo_pilot": "POST /v1/artworks/photo-pilot", "upscaling": "POST /v1/artworks/upscaling"}
#: What the hook logs when it retries a create whose first try may have created an artwork.
DUPLICATE_WARNING = "may already have created an artwork before it failed"
#: Fast retries: the faults are about what is retried, not how long the waits are.
FAST_RETRIES = {"backoff_initial": 0.05, "backoff_max": 0.5, "max_retries": 6}


@dataclass(frozen=True)
class Fault:
    """One fault to inject.

    :param name: the case's id.
    :param mode: ``poll`` or ``deferrable``: which of the two DAGs runs.
    :param emulator: options of the emulator.
    :param extras: connection extras on top of :data:`FAST_RETRIES` (e.g. a short ``timeout``).
    :param evidence: ``(route, status)`` pairs of which at least one must have been answered, so a
        case cannot pass because its fault never happened.
    :param duplicates: whether the fault may make a retried create pay twice: the emulator did the
        work but the client never heard (504 after a synchronous create; an answer later than the
        client's timeout). 5xx, 429 and drops happen before the work, so they must not duplicate.
    :param failures: whether artworks end ``failed``/``canceled``.
    :param log_evidence: text the hook must have logged, for a fault that shows in no status.
    """

    name: str
    mode: str
    emulator: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[tuple[str, str], ...] = ()
    duplicates: bool = False
    failures: bool = False
    log_evidence: str = ""


ANY_API = ("POST /v1/artworks/photo-pilot", "POST /v1/artworks/upscaling", "GET /v1/artworks/{id}")
#: 429s come from the emulator's ``throttle_rate``, a seeded share of API requests, rather than from a
#: token bucket: a bucket refuses only requests that come fast enough, which made the cases depend on
#: how fast ``dag.test()`` runs tasks and needed slow artworks to be sure of refusals. A share refuses
#: creates and polls alike at any speed. With ``Retry-After`` each 429 costs the client at least the
#: header's second, so that case uses a small share (about 150 API requests see about 8 refusals);
#: without it the client's own backoff (50 ms here) applies, so that case can refuse one in four.

FAULTS = [
    Fault(
        "429-with-retry-after",
        "poll",
        {"throttle_rate": 0.05, "rate_limit_retry_after": True},
        evidence=tuple((route, "429") for route in ANY_API),
        # The wait is the server's second (plus up to half of it in jitter), not the 50 ms backoff.
        log_evidence="rate limited (HTTP 429); retrying for up to 600 s, next try in 1.",
    ),
    Fault(
        "429-without-retry-after",
        "deferrable",
        {"throttle_rate": 0.25, "rate_limit_retry_after": False},
        evidence=tuple((route, "429") for route in ANY_API),
        log_evidence="rate limited (HTTP 429); retrying for up to 600 s, next try in 0.",
    ),
    Fault(
        "5xx-20-percent",
        "poll",
        {"error_rate": 0.2},
        evidence=tuple((route, status) for route in ANY_API for status in ("500", "502", "503")),
    ),
    Fault(
        "504-on-synchronous-routes",
        "deferrable",
        {"gateway_timeout_rate": 0.3},
        evidence=(("POST /v1/artworks/upscaling", "504"),),
        duplicates=True,
    ),
    Fault(
        "latency-beyond-timeout",
        "poll",
        {"latency": 2.0, "latency_rate": 0.04},
        extras={"timeout": 0.5},
        duplicates=True,
        log_evidence="Read timed out",
    ),
    Fault(
        "dropped-connections",
        "deferrable",
        {"drop_rate": 0.1},
        evidence=tuple((route, "dropped") for route in ANY_API),
    ),
    Fault(
        "failed-and-canceled-artworks",
        "poll",
        {"failure_rate": 0.1, "cancel_rate": 0.1},
        failures=True,
    ),
]


#: Airflow's in-process test supervisor (``dag.test()`` only, not a real worker) logs every message a
#: task sends it at DEBUG, including the ``MaskSecret`` request that registers the connection password
#: for masking; on Airflow 3.0.6 that line reaches the captured output. It is Airflow's line, not the
#: provider's, so it is set aside (and counted) before the scan.
AIRFLOW_MASK_REQUEST = re.compile(r"^.*Sending request.*MaskSecret\(value=.*$", re.MULTILINE)


@pytest.fixture
def fault_run(
    tengr_emulator_factory: Callable[..., TengrEmulator], monkeypatch: pytest.MonkeyPatch
) -> Callable[[Fault], TengrEmulator]:
    """Start an emulator for a fault with ``SECRET_KEY`` as its key and point ``tengr_default`` at it."""

    def start(fault: Fault) -> TengrEmulator:
        emulator = tengr_emulator_factory(
            **{"api_key": SECRET_KEY, "processing_seconds": 0.2, "seed": 7, **fault.emulator}
        )
        connection = json.loads(emulator.connection_json)
        connection["extra"] = {**FAST_RETRIES, **fault.extras}
        monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", json.dumps(connection))
        return emulator

    return start


def images_of(artwork: dict[str, Any]) -> list[Path]:
    """The stored files of a successful task's artwork; each must exist and decode."""
    paths = [Path(uri.removeprefix("file://")) for uri in artwork["files"]]
    assert paths, artwork
    for path in paths:
        with Image.open(path) as image:
            image.load()
    return paths


def create_retries(stats: EmulatorStats, tasks: dict[str, int]) -> dict[str, int]:
    """Create requests beyond one per task, per artwork type: each is a retry the emulator saw."""
    return {kind: stats.count(route) - tasks.get(kind, 0) for kind, route in CREATE_ROUTES.items()}


def check_outcome(
    fault: Fault, outcome: DagRunOutcome, emulator: TengrEmulator, output: Path, log_text: str
) -> str:
    """The assertions every fault shares (see the module docstring); returns the case's summary."""
    states = outcome.task_states
    restyles = [f"restyle[{n}]" for n in range(BATCH)]
    assert set(restyles) <= set(states), sorted(states)
    succeeded = [key for key, state in states.items() if state == "success"]
    failed = [key for key, state in states.items() if state == "failed"]
    assert set(succeeded) | set(failed) == set(states), states
    if not fault.failures:
        assert not failed, {key: states[key] for key in failed}
        assert len(succeeded) == 2 * BATCH

    # Every healthy artwork's files are on disk, whole.
    files = [path for key in succeeded for path in images_of(outcome.return_values[key])]
    assert len(files) == len(succeeded)
    assert not [p for p in output.rglob("*") if p.name.endswith(".part") or p.name.startswith(".")]
    assert sorted(output.rglob("*.png")) == sorted(files)

    # Every failed or canceled artwork failed its own task, with its id in the message.
    stats = emulator.stats()
    hook = TengrHook("tengr_default")
    ended_badly = {
        artwork.id: status
        for artwork in stats.artworks
        if (status := hook.get_artwork(artwork.id).status.value) in ("failed", "canceled")
    }
    if fault.failures:
        assert ended_badly, "the fault did not happen: no artwork failed or was canceled"
        assert len(failed) == len(ended_badly)
        for artwork_id, status in ended_badly.items():
            assert f"tengr.ai artwork {artwork_id} ended with status {status!r}" in log_text, artwork_id
    else:
        assert not ended_badly

    # Paid once per task, unless a retried create is the documented cause of a surplus.
    tasks = {"photo_pilot": len(restyles), "upscaling": sum(k.startswith("upscale[") for k in states)}
    created = stats.artworks_created_by_type
    retries = create_retries(stats, tasks)
    surplus = {kind: created.get(kind, 0) - tasks[kind] for kind in tasks}
    for kind in tasks:
        assert 0 <= surplus[kind] <= retries[kind], (kind, surplus, retries)
    if fault.duplicates:
        if any(surplus.values()):
            assert DUPLICATE_WARNING in log_text
    else:
        assert not any(surplus.values()), (surplus, retries)
    if fault.log_evidence:
        assert fault.log_evidence in log_text, "the fault did not happen"
    if fault.evidence:
        assert any(stats.count(route, status) for route, status in fault.evidence), stats.requests

    injected = sum(
        count
        for by_status in stats.requests.values()
        for status, count in by_status.items()
        if status in ("429", "500", "502", "503", "504", "dropped")
    )
    return (
        f"artworks created: {stats.artworks_created}; files verified: {len(files)}; "
        f"duplicates: {sum(surplus.values())}; fault answers seen: {injected}"
    )


def rows_of(model: Any, column: Any, dag_id: str) -> list[str]:
    """Every row of an Airflow table that belongs to ``dag_id``, as text."""
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            json.dumps({key: str(value) for key, value in vars(row).items() if not key.startswith("_")})
            for row in session.query(model).filter(column == dag_id)
        ]


def assert_no_key_in(scanned: dict[str, list[str]]) -> None:
    """Fail naming where the connection's API key appears, with a little context around it."""
    leaks = {where: sum(SECRET_KEY in text for text in texts) for where, texts in scanned.items()}
    where = [
        text[max(0, text.index(SECRET_KEY) - 200) : text.index(SECRET_KEY) + 60]
        for texts in scanned.values()
        for text in texts
        if SECRET_KEY in text
    ]
    assert leaks == dict.fromkeys(scanned, 0), where[:3]


def scan_run_for_the_key(dag_id: str, log_text: str, return_values: str) -> str:
    """Scan one run's output for the key: its logs, return values, XCom and rendered-field rows."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel

    xcoms = rows_of(XComModel, XComModel.dag_id, dag_id)
    rendered = rows_of(RenderedTaskInstanceFields, RenderedTaskInstanceFields.dag_id, dag_id)
    assert xcoms, "no XCom rows to scan"
    assert rendered, "no rendered-field rows to scan"
    log_folder = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    log_files = [p.read_text(errors="replace") for p in log_folder.rglob("*") if p.is_file()]
    scanned = {
        "logs": [AIRFLOW_MASK_REQUEST.sub("", log_text)],
        "return values": [return_values],
        "log files": log_files,
        "xcom table": xcoms,
        "rendered fields table": rendered,
    }
    assert_no_key_in(scanned)
    masked = len(AIRFLOW_MASK_REQUEST.findall(log_text))
    return f"scanned {sum(map(len, scanned.values()))} texts; Airflow MaskSecret lines set aside: {masked}"


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_batch_survives_fault(
    fault_run: Callable[[Fault], TengrEmulator], fault: Fault, tmp_path: Path, logs: LogText
) -> None:
    emulator = fault_run(fault)
    output = tmp_path / "out"
    dag_id = f"it_faults_{fault.mode}"

    outcome = run_dag(dag_id, {"output_path": output.as_uri()})

    log_text = logs()
    summary = check_outcome(fault, outcome, emulator, output, log_text)
    summary += "; " + scan_run_for_the_key(dag_id, log_text, json.dumps(outcome.return_values, default=str))
    print(f"\nfault {fault.name}: {summary}")
    if os.environ.get("TENGR_FAULT_SUMMARY"):  # a file to append the line to, for the issue note
        with open(os.environ["TENGR_FAULT_SUMMARY"], "a") as out:
            out.write(f"fault {fault.name}: {summary}\n")


def test_errors_reprs_and_the_serialized_trigger_never_carry_the_key(
    fault_run: Callable[[Fault], TengrEmulator],
) -> None:
    from tengr_provider.hooks.tengr import TengrAsyncHook
    from tengr_provider.triggers.artwork import TengrArtworkTrigger

    # An emulator that answers every call 500: the errors the hook raises must not carry the key.
    fault_run(Fault("errors", "poll", {"error_rate": 1.0}, extras={"max_retries": 1}))
    hook = TengrHook("tengr_default")
    with pytest.raises(TengrServerError) as raised:
        hook.get_artwork("3fa85f64-5717-4562-b3fc-2c963f66afa6")
    errors = [str(raised.value), repr(raised.value), "".join(traceback.format_exception(raised.value))]

    trigger = TengrArtworkTrigger("3fa85f64-5717-4562-b3fc-2c963f66afa6", "tengr_default", poll_interval=1)
    classpath, kwargs = trigger.serialize()
    assert kwargs["tengr_conn_id"] == "tengr_default"
    assert hook.settings.api_key == SECRET_KEY  # the objects below hold the key; their reprs must not
    tasks = [
        task
        for dag_id in ("it_faults_poll", "it_faults_deferrable")
        for task in dag_bag().get_dag(dag_id).tasks
    ]
    reprs = [repr(hook), repr(TengrAsyncHook("tengr_default")), repr(trigger), *map(repr, tasks)]
    assert_no_key_in(
        {
            "exception texts": errors,
            "reprs": reprs,
            "serialized trigger": [json.dumps([classpath, kwargs], default=str)],
        }
    )
