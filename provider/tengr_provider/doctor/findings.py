"""What the doctor found: one verdict per assumption, with its evidence and, when it fails, the advice."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from tengr_provider.doctor.assumptions import ASSUMPTIONS, BY_ID


class Verdict(str, Enum):
    """How an assumption fared against the live API."""

    HOLDS = "holds"
    CONTRADICTED = "contradicted"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Finding:
    """The doctor's verdict on one assumption.

    :param id: the assumption's id (:data:`~tengr_provider.doctor.assumptions.ASSUMPTIONS`).
    :param evidence: what was seen: calls, codes, timings; or why it was not checked.
    :param advice: for a contradiction, what to set (the assumption's general advice unless a check
        found a more exact one, such as the path that answers).
    """

    id: str
    verdict: Verdict
    evidence: str
    advice: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding with its assumption, for ``--json``."""
        assumption = BY_ID[self.id]
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "evidence": self.evidence,
            "advice": self.advice,
            "assumed": assumption.assumed,
            "spends": assumption.spends,
        }


#: Which verdict outweighs which when one assumption is checked more than once.
_WEIGHT = {Verdict.NOT_CHECKED: 0, Verdict.HOLDS: 1, Verdict.CONTRADICTED: 2}


class Findings:
    """The verdicts gathered during a run; every assumption ends with exactly one.

    A check records its verdict with :meth:`holds`, :meth:`contradicted` or :meth:`not_checked`. A later
    verdict replaces an earlier one only when it says more: a contradiction outweighs an agreement (a
    stale list seen while waiting, after the list agreed before), and an agreement outweighs "not
    checked" (an artwork in flight found by ``--spend`` after the read-only pass had none).
    """

    def __init__(self) -> None:
        self._found: dict[str, Finding] = {}

    def _record(self, finding: Finding) -> None:
        if finding.id not in BY_ID:
            raise KeyError(f"no assumption {finding.id!r}")
        current = self._found.get(finding.id)
        if current is None or _WEIGHT[finding.verdict] > _WEIGHT[current.verdict]:
            self._found[finding.id] = finding

    def holds(self, assumption_id: str, evidence: str) -> None:
        """Record that the assumption held, and what showed it."""
        self._record(Finding(assumption_id, Verdict.HOLDS, evidence))

    def contradicted(self, assumption_id: str, evidence: str, advice: str | None = None) -> None:
        """Record a contradiction; ``advice`` defaults to the assumption's own."""
        self._record(
            Finding(
                assumption_id,
                Verdict.CONTRADICTED,
                evidence,
                advice or BY_ID[assumption_id].when_contradicted,
            )
        )

    def not_checked(self, assumption_id: str, reason: str) -> None:
        """Record why the assumption could not be checked."""
        self._record(Finding(assumption_id, Verdict.NOT_CHECKED, reason))

    def verdict(self, assumption_id: str) -> Verdict | None:
        """The assumption's verdict so far, or ``None``."""
        found = self._found.get(assumption_id)
        return found.verdict if found else None

    def rows(self, unchecked_reason: str = "not reached") -> list[Finding]:
        """One finding per assumption, in the declared order; missing ones are not checked."""
        return [
            self._found.get(a.id) or Finding(a.id, Verdict.NOT_CHECKED, unchecked_reason) for a in ASSUMPTIONS
        ]
