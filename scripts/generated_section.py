"""Splice generated text into a docs page between two marker comments, and the command that does it.

Docs tables derived from code (the bad-input table, the assumptions table) are written by a script
and checked by a unit test; this module is what those scripts share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def with_section(document: str, start: str, end: str, text: str) -> str:
    """``document`` with the text between the ``start`` and ``end`` markers replaced by ``text``.

    :raises SystemExit: a marker is missing.
    """
    head, found_start, rest = document.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise SystemExit(f"markers {start!r} and {end!r} not found")
    return f"{head}{start}\n{text}\n{end}{tail}"


def run(
    argv: list[str] | None, description: str, doc: Path, expected: Callable[[str], str], command: str
) -> int:
    """Rewrite ``doc`` as ``expected(its text)``, or with ``--check`` only report whether it is current."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if the docs section is stale")
    args = parser.parse_args(argv)
    current = doc.read_text()
    wanted = expected(current)
    if args.check:
        if current != wanted:
            print(f"{doc} is stale; run: {command}", file=sys.stderr)
            return 1
        return 0
    doc.write_text(wanted)
    return 0
