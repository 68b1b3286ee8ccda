"""``tengr-emulator`` as a user runs it: a subprocess that prints its connection, serves, and stops."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.emulator.support import TIMEOUT, photo_pilot_body

import tengr_provider
from tengr_provider.testing import TengrEmulator

#: The source tree, so the subprocess imports the same provider as this test whether installed or not.
PROVIDER_ROOT = str(Path(tengr_provider.__file__).resolve().parent.parent)
EXPORT_LINE = re.compile(r"export AIRFLOW_CONN_TENGR_DEFAULT=(.+)")


def start_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PROVIDER_ROOT, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "tengr_provider.testing.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def cli() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test; any still running at teardown are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


def read_connection(process: subprocess.Popen[str]) -> dict[str, str]:
    """The connection JSON from the export line the CLI prints once it serves."""
    assert process.stdout is not None
    for line in process.stdout:
        found = EXPORT_LINE.match(line.strip())
        if found:
            connection: dict[str, str] = json.loads(shlex.split(found.group(1))[0])
            return connection
    raise AssertionError(f"no export line; stderr: {process.stderr.read() if process.stderr else ''}")


def test_cli_prints_the_connection_serves_and_exits_0_on_sigterm(cli: list[subprocess.Popen[str]]) -> None:
    process = start_cli("--port", "0", "--api-key", "cli-key", "--processing-seconds", "0.2", "--quiet")
    cli.append(process)

    connection = read_connection(process)
    answer = requests.post(
        connection["host"] + "/v1/artworks/photo-pilot",
        json=photo_pilot_body(),
        headers={"Authorization": f"Bearer {connection['password']}"},
        timeout=TIMEOUT,
    )
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=TIMEOUT)

    assert connection["conn_type"] == "tengr"
    assert connection["password"] == "cli-key"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", connection["host"])
    assert answer.status_code == 202
    assert process.returncode == 0
    assert "stopped" in out


def test_cli_exits_0_on_sigint(cli: list[subprocess.Popen[str]]) -> None:
    process = start_cli("--port", "0", "--quiet")
    cli.append(process)
    read_connection(process)

    process.send_signal(signal.SIGINT)
    process.communicate(timeout=TIMEOUT)

    assert process.returncode == 0


def test_cli_flags_reach_the_emulator(cli: list[subprocess.Popen[str]]) -> None:
    process = start_cli("--port", "0", "--rate-limit", "1", "--no-retry-after", "--credits", "5", "--any-key")
    cli.append(process)
    connection = read_connection(process)
    headers = {"Authorization": "Bearer whatever"}

    answers = [
        requests.get(connection["host"] + "/v1/artworks", headers=headers, timeout=TIMEOUT) for _ in range(2)
    ]
    stats = requests.get(connection["host"] + "/_emulator/stats", timeout=TIMEOUT).json()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=TIMEOUT)

    assert [answer.status_code for answer in answers] == [200, 429]
    assert "Retry-After" not in answers[1].headers
    assert stats["creditsRemaining"] == 5
    assert "GET /v1/artworks" in err  # without --quiet each request is logged
    assert "whatever" not in err


def test_cli_refuses_invalid_settings_with_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tengr_provider.testing.cli", "--error-rate", "2"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONPATH": PROVIDER_ROOT},
        check=False,
    )

    assert result.returncode == 2
    assert "error_rate: must be between 0 and 1" in result.stderr


def test_cli_reports_a_busy_port_with_exit_1() -> None:
    with TengrEmulator() as busy:
        port = busy.port
        result = subprocess.run(
            [sys.executable, "-m", "tengr_provider.testing.cli", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "PYTHONPATH": PROVIDER_ROOT},
            check=False,
        )

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_cli_help_lists_every_option() -> None:
    from tengr_provider.testing.cli import build_parser

    text = build_parser().format_help()

    for flag in (
        "--host", "--port", "--api-key", "--any-key", "--processing-seconds", "--rate-limit",
        "--no-retry-after", "--error-rate", "--gateway-timeout-rate", "--latency", "--latency-rate",
        "--drop-rate", "--failure-rate", "--cancel-rate", "--retention-seconds", "--url-ttl-seconds",
        "--results-per-artwork", "--credits", "--seed", "--quiet", "--file-break-rate",
        "--file-not-image-rate", "--file-padding-bytes", "--file-chunked", "--throttle-rate",
    ):  # fmt: skip
        assert flag in text


def test_every_setting_has_an_option_that_reaches_it() -> None:
    import dataclasses

    from tengr_provider.testing import EmulatorConfig
    from tengr_provider.testing.cli import _config, build_parser

    parser = build_parser()
    defaults = _config(parser.parse_args([]))
    assert dataclasses.replace(defaults, port=0) == EmulatorConfig()
    flipped = _config(
        parser.parse_args(["--no-retry-after", "--file-chunked", "--throttle-rate", "0.25", "--any-key"])
    )
    assert (flipped.rate_limit_retry_after, flipped.file_chunked, flipped.throttle_rate) == (
        False,
        True,
        0.25,
    )
    assert flipped.api_key is None
    dests = {action.dest for action in parser._actions}
    assert {item.name for item in dataclasses.fields(EmulatorConfig)} <= dests
