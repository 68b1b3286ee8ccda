"""Each way the API can contradict an assumption turns exactly that row of ``tengr-doctor``, with its advice.

The emulator plays the API that contradicts it (one setting each); a test starts what the check needs
(artworks in the account, a spend) and reads the ``--json`` report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from tests.doctor.support import Doctor, spend_all

from tengr_provider.doctor.assumptions import BY_ID
from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Contradiction:
    """One emulator setting, the row it must turn, and what the row must say.

    :param artworks: artworks created in the account before the run (the list checks need some).
    :param says: text the row's evidence or advice must hold (the exact setting, where there is one).
    """

    row: str
    settings: dict[str, Any]
    says: str
    version: str = "v1"
    args: tuple[str, ...] = ()
    spend: bool = False
    artworks: int = 0
    settle: float = 0.0


CASES = [
    Contradiction(
        "list-order", {"list_order": "oldest", "processing_seconds": 30}, "oldest first", artworks=3
    ),
    Contradiction(
        "list-fresh",
        {"list_staleness": 30, "processing_seconds": 0.1},
        "read succeeded, then the list said starting",
        artworks=1,
        settle=0.3,
    ),
    Contradiction("list-paging", {"list_limit_max": 100}, "limit=100 is accepted"),
    Contradiction(
        "create-routes",
        {"moved_route": "v2:photo-pilot=/v2/photo-pilot"},
        'api_paths extra to {"photo-pilot":"/v2/photo-pilot"}',
        version="v2",
    ),
    Contradiction(
        "create-routes",
        {"moved_route": "v2:photo-pilot=/v2/pp"},
        'api_paths extra to {"photo-pilot":"/v1/artworks/photo-pilot"}',
        version="v2",
    ),
    Contradiction(
        "create-answers", {"create_status": 201}, "photo-pilot answered 201, not 202", "v2", spend=True
    ),
    Contradiction("style-dna-v2", {"style_dna_v2_answer": "image"}, "with the image", "v2", spend=True),
    Contradiction("low-guidance", {"low_image_guidance": 3}, "640x512 → a 800x800 result", spend=True),
    Contradiction(
        "retention", {"past_artworks": 10, "retention_seconds": 30 * 86400}, "created 10 d 0 h ago, is listed"
    ),
    Contradiction("auth-codes", {"wrong_key_status": 403}, "→ 403, not 401"),
    Contradiction(
        "rate-limit", {"rate_limit": 20, "retry_after_format": "milliseconds"}, "Retry-After: 1000"
    ),
    Contradiction("api-version", {"served_versions": "v2"}, '{"api_version":"v2"}'),
    Contradiction(
        "processing-time",
        {"processing_seconds": 5},
        "still starting after 0.3 s",
        args=("--max-wait", "0.3"),
        spend=True,
    ),
]


def make_artworks(emulator: TengrEmulator, count: int) -> None:
    """Artworks in the account before the doctor runs, as a user's account has."""
    for _ in range(count):
        body = {"imageUrl": emulator.sample_image_url("seen"), "imageGuidance": 2, "modification": 1}
        requests.post(
            f"{emulator.url}/v2/artworks/photo-pilot",
            json={**body, "creativity": 1, "effort": 1},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            timeout=10,
        ).raise_for_status()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.row}:{','.join(case.settings)}")
def test_each_contradiction_turns_exactly_its_row_with_advice(
    case: Contradiction, tengr_emulator_factory: Callable[..., TengrEmulator], doctor: Doctor
) -> None:
    emulator = tengr_emulator_factory(**{"processing_seconds": 0.2, **case.settings})
    make_artworks(emulator, case.artworks)
    time.sleep(case.settle)
    spending = spend_all(emulator) if case.spend else []

    run = doctor(emulator, "--json", *spending, *case.args, version=case.version)

    assert run.contradicted() == [case.row], run.out
    assert run.code == 1
    row = run.row(case.row)
    assert case.says in row["evidence"] + " " + row["advice"]
    assert row["advice"]


def test_every_assumption_has_a_contradiction_the_doctor_catches() -> None:
    covered = {case.row for case in CASES} | {"reachable", "key"}  # those two: tests/doctor/test_doctor.py
    assert covered == set(BY_ID)
