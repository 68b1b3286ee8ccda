"""``tengr-doctor`` against a truthful API (the default emulator): what holds, what it says and spends."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from tests.doctor.support import FAST, Doctor, spend_all
from tests.helpers import SECRET_KEY

from tengr_provider.doctor.assumptions import ASSUMPTIONS
from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.integration

Start = Callable[..., TengrEmulator]
READ_ONLY = [a.id for a in ASSUMPTIONS if not a.spends and a.id != "rate-limit"]
SPENDING = [a.id for a in ASSUMPTIONS if a.spends]


def start_artwork(emulator: TengrEmulator) -> str:
    """An artwork in flight in the account, as a user's account usually has."""
    answer = requests.post(
        f"{emulator.url}/v1/artworks/photo-pilot",
        json={
            "imageUrl": emulator.sample_image_url("in-flight"),
            "imageGuidance": 2,
            "modification": 1,
            "creativity": 1,
            "effort": 1,
        },
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def test_read_only_every_free_check_holds_on_a_truthful_api(
    tengr_emulator_factory: Start, doctor: Doctor
) -> None:
    emulator = tengr_emulator_factory(processing_seconds=30)
    start_artwork(emulator)
    start_artwork(emulator)

    run = doctor(emulator, "--json")

    assert run.code == 0
    assert {name: run.verdicts[name] for name in READ_ONLY} == dict.fromkeys(READ_ONLY, "holds")
    assert run.verdicts["rate-limit"] == "not checked"  # the default emulator never rate-limits
    assert "drew no 429" in run.row("rate-limit")["evidence"]
    assert {name: run.verdicts[name] for name in SPENDING} == dict.fromkeys(SPENDING, "not checked")
    assert "--spend" in run.row("low-guidance")["evidence"]
    assert emulator.stats().artworks_created == 2  # the doctor created nothing


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_with_spend_every_assumption_holds_on_a_truthful_api(
    tengr_emulator_factory: Start, doctor: Doctor, version: str
) -> None:
    emulator = tengr_emulator_factory(**FAST)

    run = doctor(emulator, "--json", *spend_all(emulator), version=version)

    expected = dict.fromkeys(a.id for a in ASSUMPTIONS if a.id != "rate-limit")
    expected = dict.fromkeys(expected, "holds")
    if version == "v1":
        expected["style-dna-v2"] = "not checked"  # V1's style-dna answers the image: nothing to check
    assert {name: verdict for name, verdict in run.verdicts.items() if name != "rate-limit"} == expected
    assert run.code == 0
    assert "640x512 → a 640x512 result" in run.row("low-guidance")["evidence"]
    assert emulator.stats().artworks_created == 3


def test_a_rate_limited_api_shows_its_retry_after(tengr_emulator_factory: Start, doctor: Doctor) -> None:
    emulator = tengr_emulator_factory(rate_limit=5)

    run = doctor(emulator, "--json")

    assert run.verdicts["rate-limit"] == "holds"
    assert "→ 429" in run.row("rate-limit")["evidence"]
    assert "Retry-After: 1 (seconds)" in run.row("rate-limit")["evidence"]


def test_spend_shows_what_it_will_create_and_creates_nothing_when_declined(
    tengr_emulator_factory: Start, doctor: Doctor
) -> None:
    emulator = tengr_emulator_factory(**FAST)
    url = emulator.sample_image_url("doctor")

    run = doctor(emulator, "--json", "--spend", "2", "--image-url", url, answer="n")

    assert "will create 2 artwork(s)" in run.err
    assert "POST /v1/artworks/photo-pilot" in run.err
    assert "POST /v1/artworks/upscaling" in run.err
    assert emulator.stats().artworks_created == 0
    assert {run.verdicts[name] for name in SPENDING} == {"not checked"}
    assert "declined" in run.row("processing-time")["evidence"]


def test_spend_creates_at_most_the_number_given(tengr_emulator_factory: Start, doctor: Doctor) -> None:
    emulator = tengr_emulator_factory(**FAST)
    url = emulator.sample_image_url("doctor")

    run = doctor(emulator, "--json", "--spend", "1", "--yes", "--image-url", url)

    assert emulator.stats().artworks_created_by_type == {"photo_pilot": 1}
    assert run.verdicts["low-guidance"] == "holds"


def test_a_wrong_key_is_named_with_what_to_set(tengr_emulator_factory: Start, doctor: Doctor) -> None:
    emulator = tengr_emulator_factory()

    run = doctor(emulator, "--json", key="a-key-of-another-account")

    assert run.code == 1
    assert run.contradicted() == ["key"]
    assert "GET /v1/artworks?limit=1 → 401" in run.row("key")["evidence"]
    assert "password field" in run.row("key")["advice"]
    assert run.verdicts["auth-codes"] == "not checked"  # nothing more can be asked without a key


def test_every_check_asks_the_api_version_given_on_the_command_line(
    tengr_emulator_factory: Start, doctor: Doctor
) -> None:
    emulator = tengr_emulator_factory(served_versions="v2")  # the connection's v1 paths answer 404

    run = doctor(emulator, "--json", "--api-version", "v2", version="v1")

    assert run.contradicted() == []
    assert run.verdicts["auth-codes"] == "holds"
    assert "GET /v2/artworks?limit=1 with a made-up key → 401" in run.row("auth-codes")["evidence"]


def test_nothing_listening_is_a_contradiction_of_reachable(doctor: Doctor) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"

    run = doctor(closed, "--json")

    assert run.code == 1
    assert run.contradicted() == ["reachable"]
    assert "no answer" in run.row("reachable")["evidence"]
    assert "host" in run.row("reachable")["advice"]
    assert run.row("key")["evidence"] == "the API did not answer"


def test_an_untrusted_certificate_is_a_contradiction_of_reachable(doctor: Doctor, tmp_path: Path) -> None:
    from bench._tls_proxy import write_self_signed_certificate

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*write_self_signed_certificate(tmp_path))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        stop = threading.Event()

        def serve_handshakes() -> None:  # the client gives up on the certificate; nothing is served
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    connection, _ = listener.accept()
                    with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
                        pass

        server = threading.Thread(target=serve_handshakes, daemon=True)
        server.start()
        try:
            run = doctor(f"https://127.0.0.1:{listener.getsockname()[1]}", "--json")
        finally:
            stop.set()
            server.join()

    assert run.contradicted() == ["reachable"]
    assert "TLS failed" in run.row("reachable")["evidence"]
    assert "REQUESTS_CA_BUNDLE" in run.row("reachable")["advice"]


def test_the_key_never_appears_in_the_output(tengr_emulator_factory: Start, doctor: Doctor) -> None:
    emulator = tengr_emulator_factory(api_key=SECRET_KEY, **FAST)

    runs = [doctor(emulator, *spend_all(emulator)), doctor(emulator, "--json", "--rate-probe", "0")]

    for run in runs:
        assert SECRET_KEY not in run.out + run.err
        assert SECRET_KEY[:10] not in run.out + run.err


def test_the_text_report_has_one_row_per_assumption_and_a_summary(
    tengr_emulator_factory: Start, doctor: Doctor
) -> None:
    emulator = tengr_emulator_factory()

    run = doctor(emulator, "--rate-probe", "0")

    rows = [line.split()[:3] for line in run.out.splitlines() if line[:1] in ("h", "c", "n")]
    ids = [row[2] if row[0] == "not" else row[1] for row in rows]
    assert ids == [a.id for a in ASSUMPTIONS]
    assert run.out.rstrip().endswith(f"{len(ASSUMPTIONS)} assumptions: 7 hold, 0 contradicted, 7 not checked")


@pytest.mark.tengr_emulator(throttle_rate=0.1, seed=3)  # one 429, on the fifth request
def test_the_command_prints_json_alone_on_stdout_and_its_logs_on_stderr(
    tengr_emulator: TengrEmulator,
) -> None:
    command = [sys.executable, "-m", "tengr_provider.doctor", "--json", "--rate-probe", "0"]

    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert "rate limited (HTTP 429)" in done.stderr  # the hook's warnings, which Airflow logs to stdout
    report = json.loads(done.stdout)
    assert report["baseUrl"] == tengr_emulator.url
    assert [row["id"] for row in report["assumptions"]] == [a.id for a in ASSUMPTIONS]
