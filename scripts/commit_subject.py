"""Refuse a commit message whose subject line is 72 characters or longer (a pre-commit commit-msg hook).

The subject says what changed in a line ``git log --oneline`` shows whole; the why goes in the body.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 72


def main(argv: list[str] | None = None) -> int:
    """Check the message file git hands the hook; exit 1 naming the length when the subject is too long."""
    (message_file,) = argv if argv is not None else sys.argv[1:]
    lines = Path(message_file).read_text().splitlines()
    subject = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    if len(subject) >= LIMIT:
        print(f"commit subject is {len(subject)} characters; keep it under {LIMIT}, the why goes in the body")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
