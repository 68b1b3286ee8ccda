"""Write the assumptions table of ``docs/api-versions.md`` from ``tengr_provider.doctor.assumptions``.

The assumptions are declared once, in code, where ``tengr-doctor`` reads them; the docs show the same
table, so the two cannot drift. Run it after changing an assumption::

    python scripts/assumptions_table.py          # rewrite the table
    python scripts/assumptions_table.py --check  # exit 1 if the table is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository

from scripts.generated_section import REPO, GeneratedSection

from tengr_provider.doctor.assumptions import markdown_table

SECTION = GeneratedSection(
    REPO / "docs" / "api-versions.md", "assumptions-table", "scripts/assumptions_table.py", markdown_table
)

if __name__ == "__main__":
    sys.exit(SECTION.main())
