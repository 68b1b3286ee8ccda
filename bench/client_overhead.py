"""Benchmark 4: what the client costs per call and per import, next to providers-http.

Throughput: ``GET /v1/artworks/{id}`` against a ``tengr-emulator`` process (so the server has its own
core), each client in turn for ``--round-seconds``, in interleaved rounds so that drift on a noisy
machine hits all of them; the ratio is taken per round, then the median:

- ``TengrHook.get_artwork``: one hook, its one session reused, the answer validated into ``Artwork``;
- ``HttpHook(method="GET").run`` from providers-http, one hook for every call, the answer's ``.json()``
  read: a new ``requests.Session`` and a connection lookup per call, but the TCP (and TLS) connection
  is reused, because the hook mounts its one keep-alive adapter, and so its pool, on every session;
- the same with a new ``HttpHook`` per call, as ``HttpSensor.poke`` does it: a new connection per call;
- ``requests.Session.get(...).json()``: no hook at all, the ceiling of any ``requests``-based client;
- ``urllib3.PoolManager``: the connection pool ``requests`` is built on, without ``requests``.

Over plain HTTP to the emulator, then over HTTPS through a loopback TLS proxy (:mod:`bench._tls_proxy`,
its own process), and with ``--rtt-ms`` also over HTTPS with an emulated network round trip, where a
new connection per call costs what it costs against the real API.

Import time: a fresh interpreter per sample (alternating modules, median of ``--repeats``) times
``import airflow.sdk`` and then the module, so it shows both the full cost of importing the module and
what it adds to the Task SDK that every worker has loaded anyway.

    python -m bench.client_overhead                  # HTTP, HTTPS, HTTPS with a 20 ms round trip
    python -m bench.client_overhead --smoke
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import (
    API_KEY,
    HTTP_CONN_ID,
    TENGR_CONN_ID,
    base_parser,
    create_artworks,
    emit,
    emulator_process,
    isolate_airflow,
    print_table,
    set_connections,
    target,
)
from bench._tls_proxy import tls_proxy, write_self_signed_certificate

#: The clients compared, in table order.
CLIENTS = {
    "tengr": "TengrHook.get_artwork (one hook)",
    "http": "HttpHook.run (one hook)",
    "http_fresh": "HttpHook.run (new hook per call, as HttpSensor.poke)",
    "requests": "requests.Session.get, no hook",
    "urllib3": "urllib3.PoolManager, no requests",
}
IMPORTED_MODULES = {
    "tengr_provider.operators": "tengr",
    "airflow.providers.http.operators.http": "http",
}
_IMPORT_PROBE = """
import json, sys, time
started = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter() - started
started = time.perf_counter()
__import__(sys.argv[1])
module = time.perf_counter() - started
print(json.dumps({"sdk": sdk, "module": module}))
"""


def _rate(call: Callable[[], Any], seconds: float) -> float:
    """Calls per second of ``call`` in a loop of about ``seconds``."""
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        call()
        count += 1
    return count / elapsed


def measure_throughput(
    base_url: str, artwork_id: str, rounds: int, round_seconds: float, ca_file: Path | None = None
) -> dict[str, Any]:
    """Interleaved rounds of the four clients reading one artwork at ``base_url``."""
    import requests
    import urllib3
    from airflow.providers.http.hooks.http import HttpHook

    from tengr_provider.hooks.tengr import TengrHook

    set_connections(base_url)
    tengr_hook = TengrHook(tengr_conn_id=TENGR_CONN_ID)
    http_hook = HttpHook(method="GET", http_conn_id=HTTP_CONN_ID)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    session.headers.update(headers)
    pool = urllib3.PoolManager(headers=headers, ca_certs=str(ca_file) if ca_file else None)
    url = f"{base_url}/v1/artworks/{artwork_id}"
    endpoint = f"v1/artworks/{artwork_id}"
    clients: dict[str, Callable[[], Any]] = {
        "tengr": lambda: tengr_hook.get_artwork(artwork_id),
        "http": lambda: http_hook.run(endpoint=endpoint).json(),
        "http_fresh": lambda: HttpHook(method="GET", http_conn_id=HTTP_CONN_ID).run(endpoint=endpoint).json(),
        "requests": lambda: session.get(url, timeout=60).json(),
        "urllib3": lambda: json.loads(pool.request("GET", url, timeout=60).data),
    }
    for call in clients.values():  # warm up: connections, connection lookups, lazy imports
        call()
    rates: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, call in clients.items():
            rates[name].append(_rate(call, round_seconds))
    tengr_hook.close()
    session.close()
    pool.clear()
    return {
        "rates": rates,
        "median_rate": {name: statistics.median(values) for name, values in rates.items()},
        "ratio_tengr_http": _median_ratio(rates["tengr"], rates["http"]),
        "ratio_tengr_http_fresh": _median_ratio(rates["tengr"], rates["http_fresh"]),
        "ratio_tengr_requests": _median_ratio(rates["tengr"], rates["requests"]),
    }


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of per-round ratios: each round's clients ran back to back, under the same noise."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def measure_transports(rounds: int, round_seconds: float, rtt_ms: float) -> dict[str, Any]:
    """Throughput over plain HTTP, over HTTPS through the TLS proxy, and (``rtt_ms``) with a round trip."""
    with emulator_process() as emulator, tempfile.TemporaryDirectory(prefix="tengr-bench-tls-") as folder:
        (artwork_id,) = create_artworks(emulator.url, 1)
        results = {"http": measure_throughput(emulator.url, artwork_id, rounds, round_seconds)}
        cert, key = write_self_signed_certificate(Path(folder))
        port = int(emulator.url.rsplit(":", 1)[1])
        transports = {"https": 0.0, **({f"https_rtt_{rtt_ms:g}ms": rtt_ms} if rtt_ms else {})}
        os.environ["REQUESTS_CA_BUNDLE"] = str(cert)  # requests-based clients trust the throw-away CA
        try:
            for transport, rtt in transports.items():
                with tls_proxy(port, cert, key, rtt) as https_url:
                    results[transport] = measure_throughput(
                        https_url, artwork_id, rounds, round_seconds, ca_file=cert
                    )
        finally:
            del os.environ["REQUESTS_CA_BUNDLE"]
    return results


def measure_imports(repeats: int, warm_up: bool = True) -> dict[str, Any]:
    """Median import seconds per module, each sample in a fresh interpreter, modules alternating.

    With ``warm_up`` a first pass (file cache, bytecode) runs and is dropped.
    """
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in IMPORTED_MODULES.values()}
    for _ in range(repeats + warm_up):
        for module, name in IMPORTED_MODULES.items():
            probe = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, module],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            samples[name].append(json.loads(probe.stdout.strip().splitlines()[-1]))
    result: dict[str, Any] = {"repeats": repeats}
    for name, values in samples.items():
        kept = values[1:] if warm_up else values
        result[name] = {
            "module_seconds": statistics.median(v["module"] for v in kept),
            "with_sdk_seconds": statistics.median(v["sdk"] + v["module"] for v in kept),
            "sdk_seconds": statistics.median(v["sdk"] for v in kept),
        }
    result["ratio_tengr_http_with_sdk"] = (
        result["tengr"]["with_sdk_seconds"] / result["http"]["with_sdk_seconds"]
    )
    result["ratio_tengr_http_module"] = result["tengr"]["module_seconds"] / result["http"]["module_seconds"]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved throughput rounds")
    parser.add_argument("--round-seconds", type=float, default=0.6, help="seconds per client per round")
    parser.add_argument("--repeats", type=int, default=5, help="fresh-interpreter import samples per module")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="also HTTPS with this round trip; 0 skips")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.round_seconds, args.repeats, args.rtt_ms = 1, 0.2, 1, 2.0

    isolate_airflow("client-overhead")
    started = time.perf_counter()
    throughput = measure_transports(args.rounds, args.round_seconds, args.rtt_ms)
    imports = measure_imports(args.repeats, warm_up=not args.smoke)
    for transport, result in throughput.items():
        rate = result["median_rate"]
        print_table(
            f"Client overhead over {transport.replace('_', ' ')}: GET /v1/artworks/{{id}}, {args.rounds} "
            f"interleaved rounds of {args.round_seconds:g} s per client",
            ["client", "requests / s (median)", "vs HttpHook.run"],
            [[label, rate[name], rate[name] / rate["http"]] for name, label in CLIENTS.items()],
        )
        ratio, fresh = result["ratio_tengr_http"], result["ratio_tengr_http_fresh"]
        print(
            f"TengrHook / HttpHook over {transport}, median of per-round ratios: {ratio:.2f} "
            f"(vs a new HttpHook per call: {fresh:.2f})"
        )
    print_table(
        f"Import time, fresh interpreter, median of {args.repeats}",
        ["module", "import s (incl. airflow.sdk)", "of which the module on top of airflow.sdk"],
        [
            [module, imports[name]["with_sdk_seconds"], imports[name]["module_seconds"]]
            for module, name in IMPORTED_MODULES.items()
        ],
    )
    emit(
        "client_overhead",
        {
            "settings": {
                "rounds": args.rounds,
                "round_seconds": args.round_seconds,
                "repeats": args.repeats,
                "smoke": args.smoke,
            },
            "throughput": throughput,
            "imports": imports,
            "targets": {
                f"throughput_{transport}": target(
                    f"TengrHook GET throughput >= 2x HttpHook.run, {transport.replace('_', ' ')} (loopback)",
                    result["ratio_tengr_http"],
                    2.0,
                    at_most=False,
                )
                for transport, result in throughput.items()
            },
            "wall_seconds": time.perf_counter() - started,
        },
    )


if __name__ == "__main__":
    main()
