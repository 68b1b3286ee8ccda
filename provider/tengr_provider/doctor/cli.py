"""``tengr-doctor``: check the provider's assumptions against a live tengr.ai API before a real run.

Read-only by default; ``--spend N`` creates at most N of the cheapest artworks after showing them and
asking. Prints one row per assumption (holds / contradicted / not checked) with the evidence and, for a
contradiction, what to set; ``--json`` for machines. Exits 1 when an assumption is contradicted, 2 when
the command or the connection is unusable, 0 otherwise. The API key never appears in the output.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.api_paths import API_VERSIONS
from tengr_provider.doctor import connection, report
from tengr_provider.doctor.assumptions import DEFAULT_MAX_WAIT_SECONDS
from tengr_provider.doctor.context import DEFAULT_POLL_SECONDS, DEFAULT_RATE_PROBE, Context, Options
from tengr_provider.doctor.findings import Verdict
from tengr_provider.doctor.run import run
from tengr_provider.exceptions import TengrAuthError
from tengr_provider.version_compat import Connection

#: Exit statuses: every assumption held or went unchecked; one was contradicted; the run could not start.
EXIT_OK, EXIT_CONTRADICTED, EXIT_UNUSABLE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="tengr-doctor",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    where = parser.add_argument_group("which API and key (an Airflow connection, or a URL and a key)")
    where.add_argument(
        "--conn-id",
        help=f"the Airflow connection, read as a task reads it (default: {DEFAULT_CONN_ID})",
    )
    where.add_argument("--base-url", help="the API's base URL, instead of a connection")
    where.add_argument("--api-key-env", help="with --base-url: the environment variable holding the API key")
    where.add_argument("--api-version", choices=API_VERSIONS, help="check this version, not the connection's")
    spending = parser.add_argument_group("spending (off by default)")
    spending.add_argument("--spend", type=int, default=0, metavar="N", help="create at most N artworks (1-3)")
    spending.add_argument(
        "--image-url", help="with --spend: a public PNG/JPEG/WebP (at most 1216x1216) to start them from"
    )
    spending.add_argument("--yes", action="store_true", help="spend without asking")
    spending.add_argument("--poll", type=float, default=DEFAULT_POLL_SECONDS, help="seconds between reads")
    spending.add_argument(
        "--max-wait", type=float, default=DEFAULT_MAX_WAIT_SECONDS, help="seconds to wait for them"
    )
    parser.add_argument(
        "--rate-probe",
        type=int,
        default=DEFAULT_RATE_PROBE,
        metavar="N",
        help="quick reads to meet a 429; 0 skips",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return parser


def _connection(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Connection:
    if args.base_url:
        if args.conn_id:
            parser.error("--conn-id and --base-url: give one of them")
        if not args.api_key_env:
            parser.error("--base-url needs --api-key-env NAME (the environment variable holding the key)")
        return connection.from_command_line(args.base_url, args.api_key_env)
    if args.api_key_env:
        parser.error("--api-key-env goes with --base-url")
    return connection.from_airflow(args.conn_id or DEFAULT_CONN_ID)


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if not 0 <= args.spend <= 3:
        parser.error(f"--spend: between 0 and 3 artworks (one per create call), got {args.spend}")
    if args.spend and not args.image_url:
        parser.error("--spend needs --image-url: a public PNG/JPEG/WebP the API can download")
    if args.poll <= 0 or args.max_wait <= 0 or args.rate_probe < 0:
        parser.error("--poll and --max-wait must be > 0, --rate-probe >= 0")
    # Each field of Options is the option of the same name.
    return Options(**{field.name: getattr(args, field.name) for field in dataclasses.fields(Options)})


def asker(yes: bool, ask: Callable[[str], str] = input) -> Callable[[list[str]], bool]:
    """What ``--spend`` asks before creating anything: the plan, then yes or no (``--yes`` skips it)."""

    def confirm(plan: list[str]) -> bool:
        _say(f"tengr-doctor will create {len(plan)} artwork(s), spending credits:")
        for line in plan:
            _say(f"  {line}")
        if yes:
            return True
        try:
            return ask("Create them? [y/N] ").strip().lower() in ("y", "yes")
        except EOFError:
            _say("no answer on stdin: nothing created (pass --yes to spend without asking)")
            return False

    return confirm


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _report_stream() -> TextIO:
    """Standard output for the report alone; everything else written to it goes to standard error.

    Airflow's loggers (stdlib and structlog) write to standard output, which would break ``--json``: the
    process's stdout is pointed at stderr, and the report gets a copy of the original. The provider's own
    info lines (each stored download) are left out; its warnings (a retried 429) stay.
    """
    logging.getLogger("tengr_provider").setLevel(logging.WARNING)
    try:
        original = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no real file behind stdout: leave it as it is
        return sys.stdout
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return os.fdopen(original, "w")


def main(argv: list[str] | None = None, ask: Callable[[str], str] = input, out: TextIO | None = None) -> int:
    """Run the doctor; the exit status says whether an assumption was contradicted.

    :param ask: how the ``--spend`` question is asked.
    :param out: where the report goes (standard output unless given).
    """
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    options = _options(parser, args)
    try:
        ctx = Context(_connection(parser, args), options, say=_say)
        settings = ctx.settings
    except (connection.ConnectionNotFoundError, TengrAuthError, ValueError) as exc:
        _say(f"tengr-doctor: {exc}")
        return EXIT_UNUSABLE
    about: dict[str, Any] = {
        "connection": ctx.connection.conn_id if not args.base_url else None,
        "baseUrl": settings.base_url,
        "apiVersion": settings.api_version,
        "spend": options.spend,
    }
    mode = f"spending at most {options.spend}" if options.spend else "read-only"
    _say(f"tengr-doctor: {settings.base_url}, API {settings.api_version}, {mode}")
    findings = run(ctx, asker(args.yes, ask))
    if args.json:
        print(json.dumps(report.as_json(findings, about), indent=2), file=out)
    else:
        where = f"connection {about['connection']}" if about["connection"] else "--base-url"
        heading = f"tengr-doctor · {settings.base_url} · API {settings.api_version} · {where} · {mode}"
        print(report.text(findings, heading), file=out)
    contradicted = any(finding.verdict is Verdict.CONTRADICTED for finding in findings)
    return EXIT_CONTRADICTED if contradicted else EXIT_OK


def console() -> None:
    """``tengr-doctor``: logs to stderr, the report to stdout, the exit status from :func:`main`."""
    out = _report_stream()
    try:
        code = main(out=out)
    finally:
        out.flush()
    sys.exit(code)


if __name__ == "__main__":
    console()
