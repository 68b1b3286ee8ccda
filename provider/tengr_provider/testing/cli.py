"""``tengr-emulator``: run the local tengr.ai emulator from a shell until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from types import FrameType

from tengr_provider.testing.config import (
    DEFAULT_API_KEY,
    DEFAULT_RETENTION_SECONDS,
    DEFAULT_URL_TTL_SECONDS,
    EmulatorConfig,
)
from tengr_provider.testing.emulator import TengrEmulator


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option maps to one :class:`EmulatorConfig` field."""
    parser = argparse.ArgumentParser(
        prog="tengr-emulator",
        description="A local tengr.ai API for tests and demos. Prints the Airflow connection to use.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (loopback keeps it private)")
    add("--port", type=int, default=8099, help="port to bind; 0 picks a free one")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--api-key", default=DEFAULT_API_KEY, help="the Bearer token to accept")
    keys.add_argument("--any-key", action="store_true", help="accept any non-empty Bearer token")
    add("--processing-seconds", type=float, default=2.0, help="time for a photo-pilot artwork to finish")
    add("--retention-seconds", type=float, default=DEFAULT_RETENTION_SECONDS, help="artwork lifetime")
    add("--url-ttl-seconds", type=float, default=DEFAULT_URL_TTL_SECONDS, help="style-dna URL lifetime")
    add("--results-per-artwork", type=int, default=1, help="images per successful photo-pilot artwork")
    add("--credits", type=int, default=None, help="credits available (default: unlimited)")
    add("--seed", type=int, default=0, help="seed of every random fault choice")
    add("--rate-limit", type=float, default=None, help="API requests per second before 429 (default: off)")
    add("--no-retry-after", action="store_true", help="send 429 without a Retry-After header")
    add("--error-rate", type=float, default=0.0, help="share of API requests answered 500/502/503")
    add("--gateway-timeout-rate", type=float, default=0.0, help="share of sync calls answered 504 after work")
    add("--latency", type=float, default=0.0, help="seconds added to delayed API requests")
    add("--latency-rate", type=float, default=None, help="share of API requests delayed (default: all)")
    add("--drop-rate", type=float, default=0.0, help="share of API requests dropped without an answer")
    add("--failure-rate", type=float, default=0.0, help="share of artworks that end failed")
    add("--cancel-rate", type=float, default=0.0, help="share of photo-pilot artworks that end canceled")
    add("--file-break-rate", type=float, default=0.0, help="share of image downloads cut off halfway")
    add("--file-not-image-rate", type=float, default=0.0, help="share of image downloads answered with HTML")
    add("--file-padding-bytes", type=int, default=0, help="bytes of padding added to every PNG result")
    add("--file-chunked", action="store_true", help="send result images chunked, without Content-Length")
    add("--quiet", action="store_true", help="do not log each request to stderr")
    return parser


def _config(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        api_key=None if args.any_key else args.api_key,
        processing_seconds=args.processing_seconds,
        retention_seconds=args.retention_seconds,
        url_ttl_seconds=args.url_ttl_seconds,
        results_per_artwork=args.results_per_artwork,
        credits=args.credits,
        seed=args.seed,
        rate_limit=args.rate_limit,
        rate_limit_retry_after=not args.no_retry_after,
        error_rate=args.error_rate,
        gateway_timeout_rate=args.gateway_timeout_rate,
        latency=args.latency,
        latency_rate=args.latency_rate,
        drop_rate=args.drop_rate,
        failure_rate=args.failure_rate,
        cancel_rate=args.cancel_rate,
        file_break_rate=args.file_break_rate,
        file_not_image_rate=args.file_not_image_rate,
        file_padding_bytes=args.file_padding_bytes,
        file_chunked=args.file_chunked,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop cleanly.

    :param argv: arguments without the program name; ``None`` reads ``sys.argv``.
    :return: 0 after a clean stop, 1 when the port cannot be bound.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = _config(args)
    except ValueError as error:
        parser.error(str(error))
    logging.basicConfig(format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("tengr_provider.testing").setLevel(logging.WARNING if args.quiet else logging.DEBUG)

    emulator = TengrEmulator.from_config(config)
    try:
        emulator.start()
    except OSError as error:
        print(f"tengr-emulator: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"tengr emulator serving {emulator.url} (Ctrl-C to stop)")
        print(f"export AIRFLOW_CONN_TENGR_DEFAULT={shlex.quote(emulator.connection_json)}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emulator.stop()
    print("tengr emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
