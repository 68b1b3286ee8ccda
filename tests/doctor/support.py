"""What the doctor's tests share: a run's outcome, and the options that keep a run to about a second."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tengr_provider.testing import TengrEmulator

#: Emulator settings that make a doctor run take about a second: artworks end in a fifth of a second.
FAST = {"processing_seconds": 0.2}
#: Doctor options that match: short polls, a wait that still fails a hung artwork quickly.
QUICK = ["--poll", "0.05", "--max-wait", "10"]


@dataclass(frozen=True)
class DoctorRun:
    """What one run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def report(self) -> dict[str, Any]:
        """The ``--json`` report."""
        return dict(json.loads(self.out))

    @property
    def verdicts(self) -> dict[str, str]:
        """Verdict by assumption id (``--json`` runs)."""
        return {row["id"]: row["verdict"] for row in self.report["assumptions"]}

    def row(self, assumption_id: str) -> dict[str, Any]:
        """One assumption's entry of the ``--json`` report."""
        return next(row for row in self.report["assumptions"] if row["id"] == assumption_id)

    def contradicted(self) -> list[str]:
        """The ids of the contradicted assumptions."""
        return [name for name, verdict in self.verdicts.items() if verdict == "contradicted"]


#: Runs the doctor on ``tengr_default`` pointing at an emulator: ``doctor(emu, "--json", version="v2")``.
Doctor = Callable[..., DoctorRun]


def spend_all(emulator: TengrEmulator) -> list[str]:
    """The options that let the doctor create one artwork of each kind from an emulator sample."""
    return [
        "--spend",
        "3",
        "--yes",
        "--image-url",
        emulator.sample_image_url("doctor", width=800, height=800),
    ]
