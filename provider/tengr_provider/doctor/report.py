"""The doctor's output: a table a person reads, or JSON a CI job reads. Neither ever holds the key."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from tengr_provider.doctor.assumptions import ASSUMPTIONS
from tengr_provider.doctor.findings import Finding, Verdict

#: Width the text report wraps its evidence at.
WIDTH = 110
_VERDICT_WIDTH = len("contradicted") + 2
_ID_WIDTH = max(len(assumption.id) for assumption in ASSUMPTIONS) + 2


def summary(findings: list[Finding]) -> dict[str, int]:
    """How many assumptions hold, are contradicted, were not checked."""
    counts = Counter(finding.verdict for finding in findings)
    return {verdict.value: counts.get(verdict, 0) for verdict in Verdict}


def text(findings: list[Finding], heading: str) -> str:
    """One row per assumption: verdict, id, evidence; the advice under a contradiction."""
    indent = " " * (_VERDICT_WIDTH + _ID_WIDTH)
    lines = [heading, ""]
    for finding in findings:
        head = f"{finding.verdict.value:<{_VERDICT_WIDTH}}{finding.id:<{_ID_WIDTH}}"
        lines += textwrap.wrap(
            finding.evidence, WIDTH, initial_indent=head, subsequent_indent=indent, break_on_hyphens=False
        )
        if finding.advice:
            lines += textwrap.wrap(
                f"set: {finding.advice}",
                WIDTH,
                initial_indent=indent,
                subsequent_indent=indent + "     ",
                break_on_hyphens=False,
            )
    counts = summary(findings)
    lines += [
        "",
        f"{len(findings)} assumptions: {counts['holds']} hold, {counts['contradicted']} contradicted, "
        f"{counts['not checked']} not checked",
    ]
    return "\n".join(lines)


def as_json(findings: list[Finding], about: dict[str, Any]) -> dict[str, Any]:
    """The run as a JSON object: what was checked, one entry per assumption, and the counts."""
    return {**about, "assumptions": [f.to_json() for f in findings], "summary": summary(findings)}
