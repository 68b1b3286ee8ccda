"""Starting and stopping from Python: addresses, a clean stop, and keep-alive without stalls."""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import threading
import time

import pytest
import requests
from tests.emulator.support import TIMEOUT, photo_pilot_body

from tengr_provider.testing import DEFAULT_API_KEY, EmulatorConfig, TengrEmulator


def test_context_manager_serves_on_a_free_loopback_port() -> None:
    with TengrEmulator() as emulator:
        assert emulator.running
        assert emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.port > 0
        assert requests.get(emulator.url + "/_emulator/stats", timeout=TIMEOUT).status_code == 200
    assert not emulator.running


def test_connection_json_points_airflow_at_the_emulator() -> None:
    with TengrEmulator(api_key="k-123") as emulator:
        assert json.loads(emulator.connection_json) == {
            "conn_type": "tengr",
            "host": emulator.url,
            "password": "k-123",
        }


def test_connection_json_carries_the_default_key_when_any_key_is_accepted() -> None:
    with TengrEmulator(api_key=None) as emulator:
        assert json.loads(emulator.connection_json)["password"] == DEFAULT_API_KEY


def test_sample_image_url_names_size_and_source() -> None:
    with TengrEmulator() as emulator:
        url = emulator.sample_image_url("boot", width=640, height=480)

        assert url == f"{emulator.url}/samples/boot.png?width=640&height=480"


def test_stop_leaves_no_threads_and_frees_the_port() -> None:
    threads_before = threading.active_count()
    emulator = TengrEmulator(processing_seconds=0).start()
    port = emulator.port
    with requests.Session() as session:  # keep-alive connections stay open until the stop
        session.headers["Authorization"] = f"Bearer {emulator.api_key}"
        for _ in range(3):
            session.post(emulator.url + "/v1/artworks/photo-pilot", json=photo_pilot_body(), timeout=TIMEOUT)
        idle = socket.create_connection(("127.0.0.1", port))  # a client that connects and says nothing
        time.sleep(0.1)  # let the server accept it and give it a thread

        emulator.stop()

        assert threading.active_count() == threads_before
        with idle, contextlib.suppress(ConnectionResetError):
            assert idle.recv(1) == b""  # the server hung up
    with TengrEmulator(port=port) as again:
        assert again.port == port


def test_stop_twice_is_harmless_and_restart_keeps_the_artworks() -> None:
    emulator = TengrEmulator(processing_seconds=0, port=0).start()
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    url = emulator.url
    created = requests.post(
        url + "/v1/artworks/photo-pilot", json=photo_pilot_body(), headers=headers, timeout=TIMEOUT
    )
    emulator.stop()
    emulator.stop()

    emulator.start()
    try:
        answer = requests.get(
            f"{emulator.url}/v1/artworks/{created.json()['id']}", headers=headers, timeout=TIMEOUT
        )
        assert answer.status_code == 200
    finally:
        emulator.stop()


def test_start_while_running_is_refused() -> None:
    with TengrEmulator() as emulator, pytest.raises(RuntimeError, match="already running"):
        emulator.start()


def test_url_before_start_explains_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = TengrEmulator().url


def test_a_busy_port_raises_oserror() -> None:
    with TengrEmulator() as first, pytest.raises(OSError, match="in use"):
        TengrEmulator(port=first.port).start()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"error_rate": 1.5}, "error_rate: must be between 0 and 1"),
        ({"failure_rate": 0.6, "cancel_rate": 0.6}, "failure_rate + cancel_rate"),
        ({"processing_seconds": -1}, "processing_seconds: must be >= 0"),
        ({"retention_seconds": 0}, "retention_seconds: must be > 0"),
        ({"results_per_artwork": 0}, "results_per_artwork"),
        ({"api_key": " "}, "api_key"),
        ({"port": 70000}, "port"),
        ({"file_break_rate": -0.1}, "file_break_rate: must be between 0 and 1"),
        ({"file_break_rate": 0.7, "file_not_image_rate": 0.7}, "file_break_rate + file_not_image_rate"),
        ({"file_padding_bytes": -1}, "file_padding_bytes: must be >= 0"),
    ],
)
def test_invalid_settings_fail_at_construction(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match="invalid tengr emulator settings") as raised:
        TengrEmulator(**options)  # type: ignore[arg-type]

    assert problem in str(raised.value)


def test_an_unknown_setting_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="procesing_seconds"):
        TengrEmulator(procesing_seconds=1)


def test_every_setting_is_a_keyword_of_the_constructor() -> None:
    import dataclasses

    changed = {"processing_seconds": 0.5, "throttle_rate": 0.2, "file_chunked": True, "api_key": None}
    emulator = TengrEmulator(**changed)

    assert {name: getattr(emulator.config, name) for name in changed} == changed
    assert {item.name for item in dataclasses.fields(EmulatorConfig)} >= set(changed)


def test_from_config_keeps_every_setting() -> None:
    config = EmulatorConfig(processing_seconds=0.5, rate_limit=3, seed=9, credits=2)

    assert TengrEmulator.from_config(config).config == config


def test_repr_shows_the_url_but_never_the_key() -> None:
    with TengrEmulator(api_key="very-secret-key") as emulator:
        assert emulator.url in repr(emulator)
        assert "very-secret-key" not in repr(emulator)


def test_startup_is_quick() -> None:
    started = time.perf_counter()
    with TengrEmulator() as emulator:
        elapsed = time.perf_counter() - started
        assert emulator.running
    # A fixture per test must stay cheap; the bound is loose enough for a busy 2-core CI machine.
    assert elapsed < 2.0, f"tengr emulator startup took {elapsed * 1000:.1f} ms"


def test_keep_alive_requests_do_not_stall() -> None:
    # One write per answer plus TCP_NODELAY: without them each keep-alive request waits ~40 ms for a
    # delayed ACK. The bound is generous so only that stall, not a busy machine, can fail it.
    with TengrEmulator() as emulator, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {emulator.api_key}"
        durations = []
        for _ in range(30):
            started = time.perf_counter()
            assert session.get(emulator.url + "/v1/artworks", timeout=TIMEOUT).status_code == 200
            durations.append(time.perf_counter() - started)

    assert statistics.median(durations) < 0.02


def test_answers_always_carry_content_length() -> None:
    with TengrEmulator() as emulator:
        for path in ("/v1/artworks", "/nowhere", "/samples/a.png?width=4&height=4", "/_emulator/stats"):
            answer = requests.get(emulator.url + path, timeout=TIMEOUT)
            assert int(answer.headers["Content-Length"]) == len(answer.content), path


def test_an_oversized_body_answers_413_and_is_counted() -> None:
    with TengrEmulator() as emulator:
        answer = requests.post(
            emulator.url + "/v1/artworks/photo-pilot",
            data=b"x" * (2 << 20),
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            timeout=TIMEOUT,
        )

        assert answer.status_code == 413
        assert emulator.stats().count("POST /v1/artworks/photo-pilot", 413) == 1
