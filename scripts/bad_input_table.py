"""Write the "Invalid input, field by field" table of ``docs/troubleshooting.md`` from the test's cases.

The cases live in ``tests/unit/test_bad_inputs.py`` (:data:`CASES`), where each is run and its message
checked; the docs show the same list, so they cannot drift from what the code does. Run it after
changing the cases::

    python scripts/bad_input_table.py          # rewrite the table
    python scripts/bad_input_table.py --check  # exit 1 if the table is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository

from scripts.generated_section import REPO, GeneratedSection


def _code(text: str) -> str:
    """``text`` as a Markdown code span that survives backticks and table pipes."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def render_table() -> str:
    """The Markdown table, one row per case, in the test's order."""
    if str(REPO / "provider") not in sys.path:
        sys.path.insert(0, str(REPO / "provider"))
    from tests.unit.test_bad_inputs import CASES

    rows = ["| operator / sensor | invalid input | the error says |", "|---|---|---|"]
    rows += [f"| `{case.target}` | {_code(case.shown)} | {_code(case.message)} |" for case in CASES]
    return "\n".join(rows)


SECTION = GeneratedSection(
    REPO / "docs" / "troubleshooting.md", "bad-input-table", "scripts/bad_input_table.py", render_table
)

if __name__ == "__main__":
    sys.exit(SECTION.main())
