"""``tengr-emulator``: run the local tengr.ai emulator from a shell until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shlex
import signal
import sys
import threading
import typing
from types import FrameType
from typing import Any

from tengr_provider.testing.config import DEFAULT_API_KEY, EmulatorConfig
from tengr_provider.testing.emulator import TengrEmulator


def _scalar(hint: Any) -> Any:
    """``float`` for ``float | None``: the type an option's text is converted with."""
    return next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint)


def _setting_options() -> list[tuple[dataclasses.Field[Any], Any]]:
    """The config fields the CLI derives an option from, with their types."""
    hints = typing.get_type_hints(EmulatorConfig)
    return [
        (item, _scalar(hints[item.name]))
        for item in dataclasses.fields(EmulatorConfig)
        if not item.metadata.get("skip")
    ]


def build_parser() -> argparse.ArgumentParser:
    """The command line: one option per :class:`EmulatorConfig` field, derived from the field."""
    parser = argparse.ArgumentParser(
        prog="tengr-emulator",
        description="A local tengr.ai API for tests and demos. Prints the Airflow connection to use.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--api-key", default=DEFAULT_API_KEY, help="the Bearer token to accept")
    keys.add_argument("--any-key", action="store_true", help="accept any non-empty Bearer token")
    for item, kind in _setting_options():
        flag = item.metadata.get("flag", "--" + item.name.replace("_", "-"))
        if kind is bool:
            # A flag flips the field's default; with no flag the attribute stays unset (no "default"
            # shown in --help, where a store_false flag's "default: True" would read backwards).
            parser.add_argument(
                flag,
                dest=item.name,
                action="store_const",
                const=not item.default,
                default=argparse.SUPPRESS,
                help=item.metadata["help"],
            )
        else:
            default = item.metadata.get("cli_default", item.default)
            parser.add_argument(flag, dest=item.name, type=kind, default=default, help=item.metadata["help"])
    parser.add_argument("--quiet", action="store_true", help="do not log each request to stderr")
    return parser


def _config(args: argparse.Namespace) -> EmulatorConfig:
    settings: dict[str, Any] = {
        item.name: getattr(args, item.name, item.default) for item, _ in _setting_options()
    }
    return EmulatorConfig(api_key=None if args.any_key else args.api_key, **settings)


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
