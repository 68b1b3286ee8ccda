"""What every benchmark shares: an isolated Airflow home, emulators, process metrics and the output.

Nothing here imports Airflow at module level: a benchmark must point ``AIRFLOW_HOME`` at a fresh
directory (:func:`isolate_airflow`) before Airflow is first imported, because Airflow reads its
configuration once, on import, and a user's own ``~/airflow`` (connections, config, database) must
not change the numbers.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
#: The emulator's default key; every benchmark emulator runs with it.
API_KEY = "tengr-emulator-key"
#: Connection ids the benchmarks define (as ``AIRFLOW_CONN_*`` variables).
TENGR_CONN_ID = "tengr_default"
HTTP_CONN_ID = "bench_http"
#: A photo-pilot request whose result is small (512x512): image encoding must not be what we measure.
PHOTO_FIELDS: dict[str, Any] = {
    "image_guidance": 1,
    "modification": 3,
    "creativity": 3,
    "effort": 3,
    "width": 512,
    "height": 512,
}


def isolate_airflow(name: str, log_level: str = "WARNING") -> Path:
    """Point Airflow at a fresh, temporary home (removed at exit); call before Airflow is imported.

    Also drops inherited ``AIRFLOW_CONN_*`` variables (each benchmark defines its own) and sets the
    log level (WARNING by default), so per-poll INFO lines do not flood the output.
    """
    home = Path(tempfile.mkdtemp(prefix=f"tengr-bench-{name}-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    dags = home / "dags"
    dags.mkdir()
    for key in [key for key in os.environ if key.startswith("AIRFLOW_CONN_")]:
        del os.environ[key]
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
        }
    )
    return home


def migrate_airflow_db(timeout: float = 300) -> float:
    """``airflow db migrate`` into the isolated home (``dag.test()`` needs it); returns its seconds."""
    started = time.perf_counter()
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def set_connections(base_url: str, **extra: Any) -> None:
    """Define ``tengr_default`` and an HTTP connection (for providers-http) to the same emulator."""
    os.environ[f"AIRFLOW_CONN_{TENGR_CONN_ID.upper()}"] = tengr_connection_json(base_url, **extra)
    os.environ[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = http_connection_json(base_url)


def tengr_connection_json(base_url: str, **extra: Any) -> str:
    """The provider's connection to an emulator, as the emulator's own helper writes it.

    :param extra: connection extras (e.g. ``max_retries=30``), as a user would set them.
    """
    from tengr_provider.testing.config import connection_json

    value = json.loads(connection_json(base_url, API_KEY))
    if extra:
        value["extra"] = extra
    return json.dumps(value)


def http_connection_json(base_url: str) -> str:
    """An ``http`` connection to the emulator whose extra carries the Bearer header.

    HttpHook and HttpAsyncHook turn unknown extra keys into request headers, which is how users give
    them a Bearer token today.
    """
    parts = urlsplit(base_url)
    return json.dumps(
        {
            "conn_type": "http",
            "host": parts.hostname,
            "port": parts.port,
            "schema": parts.scheme,
            "extra": {"Authorization": f"Bearer {API_KEY}"},
        }
    )


# -- emulator in its own process ---------------------------------------------------------------------


@dataclass
class EmulatorProcess:
    """A ``tengr-emulator`` CLI process, so the server's CPU is not charged to the process measured."""

    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, Any]:
        """``GET /_emulator/stats`` (the same data as ``TengrEmulator.stats()``, in API spelling)."""
        import requests

        response = requests.get(f"{self.url}/_emulator/stats", timeout=60)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def stop_process(process: subprocess.Popen[str]) -> None:
    """Stop a helper process: SIGTERM so it cleans up, SIGKILL if it has not ended within 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@contextmanager
def emulator_process(*options: str, startup_timeout: float = 60) -> Iterator[EmulatorProcess]:
    """Start ``python -m tengr_provider.testing --port 0 --quiet <options>`` and stop it afterwards.

    Waits for the printed URL; a process that is not ready within ``startup_timeout`` is killed. Only
    this process is ever signalled, by its own handle.
    """
    command = [sys.executable, "-m", "tengr_provider.testing", "--port", "0", "--quiet", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(startup_timeout, process.kill)
    watchdog.start()
    url = None
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("tengr emulator serving "):
                url = line.split()[3]
                break
        watchdog.cancel()
        if url is None:
            raise RuntimeError(f"tengr-emulator did not start (exit code {process.poll()})")
        yield EmulatorProcess(url, process)
    finally:
        watchdog.cancel()
        stop_process(process)


def create_artworks(base_url: str, count: int, *, deadline_seconds: float = 300) -> list[str]:
    """Create ``count`` photo-pilot artworks with plain HTTP (the set-up, not what is measured)."""
    import requests

    body = {
        "imageUrl": f"{base_url}/samples/source.png?width=512&height=512",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 3,
        "effort": 3,
        "width": 512,
        "height": 512,
    }
    deadline = time.monotonic() + deadline_seconds
    ids = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {API_KEY}"
        for _ in range(count):
            if time.monotonic() > deadline:
                raise TimeoutError(f"created only {len(ids)} of {count} artworks in {deadline_seconds} s")
            response = session.post(f"{base_url}/v1/artworks/photo-pilot", json=body, timeout=60)
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def api_calls(stats: Mapping[str, Any], *, method: str | None = None) -> int:
    """API requests (``/v1/...`` routes, any answer) in emulator stats, optionally of one method."""
    total = 0
    for route, by_status in stats["requests"].items():
        verb, _, path = route.partition(" ")
        if path.startswith("/v1/") and (method is None or verb == method):
            total += sum(by_status.values())
    return total


def answers_with(stats: Mapping[str, Any], status: str) -> int:
    """How many API requests were answered with ``status`` (e.g. ``"429"``)."""
    return sum(by_status.get(status, 0) for by_status in stats["requests"].values())


# -- process metrics ---------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_mib() -> float:
    """Resident memory of this process now, MiB."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    """Peak resident memory of this process since it started (``VmHWM``), MiB."""
    return _status_kib("VmHWM") / 1024


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


# -- output ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """The machine and versions, recorded with every result (numbers mean little without them)."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if "model name" in line
            ),
            "",
        )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "providers_http": version("apache-airflow-providers-http"),
        "provider": version("airflow-provider-tengr"),
        "aiohttp": version("aiohttp"),
        "requests": version("requests"),
    }


def fmt(value: object) -> str:
    """A table cell: floats with a sensible number of significant digits."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return "n/a"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.2g}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table, so that the output can be pasted into ``docs/benchmarks.md`` as printed."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(fmt(cell) for cell in row) + " |")
    print(flush=True)


def target(description: str, value: float, limit: float, *, at_most: bool = True) -> dict[str, Any]:
    """One target of issue 6, with the measured value and whether it is met."""
    met = value <= limit if at_most else value >= limit
    return {"target": description, "value": value, "limit": limit, "met": bool(met)}


def emit(name: str, payload: dict[str, Any]) -> None:
    """Print the one machine-readable line: ``{"benchmark": name, "machine": ..., ...}``."""
    record = {"benchmark": name, "machine": machine(), **payload}
    print(json.dumps(_jsonable(record), allow_nan=False), flush=True)


def _jsonable(value: Any) -> Any:
    """Strict JSON: NaN (an undefined ratio) becomes null, anything unknown its ``str``."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def parse_result_line(output: str, name: str) -> dict[str, Any]:
    """The JSON line of benchmark ``name`` in a command's output (the last one wins)."""
    found: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith("{") and f'"benchmark": "{name}"' in line:
            found = json.loads(line)
    if found is None:
        raise ValueError(f"no JSON line of benchmark {name!r} in the output")
    return found


def base_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every benchmark takes; ``--smoke`` shrinks it to a seconds-long sanity run."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, not the numbers")
    return parser


def without_requeue_settle() -> None:
    """Turn off the trigger's settle time for a harness that runs the triggers itself.

    The settle time guards against Airflow's stale-executor race (issue 25); with no scheduler to race
    it would only add its 30 s to every wait measured.
    """
    os.environ.setdefault("AIRFLOW__TENGR__REQUEUE_SETTLE_SECONDS", "0")
