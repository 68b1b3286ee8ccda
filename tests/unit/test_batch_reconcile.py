"""Reconciliation: a create whose answer was lost is found in the artworks list and adopted, once."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tengr_provider.batch.reconcile import CLOCK_SKEW, Intent, echoes, page_limit, reconcile
from tengr_provider.models import LIST_LIMIT_MAX, Artwork

INTENT_AT = 1_800_000_000.0
BODY = {"imageUrl": "https://img.example/shoe.png", "scaleFactor": 4}


def listed(artwork_id: str, parameters: dict[str, Any], seconds_after_intent: float) -> Artwork:
    created = datetime.fromtimestamp(INTENT_AT + seconds_after_intent, tz=timezone.utc)
    return Artwork(id=artwork_id, status="processing", parameters=parameters, created_at=created)


class ArtworksList:
    """The list endpoint over ``artworks`` (newest first), counting the pages read."""

    def __init__(self, artworks: list[Artwork]) -> None:
        self.artworks = sorted(artworks, key=lambda a: a.created_at or 0, reverse=True)  # type: ignore[arg-type,return-value]
        self.pages = 0

    def __call__(self, offset: int, limit: int) -> list[Artwork]:
        self.pages += 1
        return self.artworks[offset : offset + limit]


def test_the_artwork_of_a_lost_create_is_adopted() -> None:
    artworks = ArtworksList([listed("made", BODY, 0.4), listed("other", {**BODY, "scaleFactor": 2}, 0.5)])
    found = reconcile([Intent(7, BODY, INTENT_AT)], artworks, owned=set(), max_pages=3)
    assert {index: artwork.id for index, artwork in found.items()} == {7: "made"}


def test_nothing_is_adopted_when_the_create_never_arrived() -> None:
    artworks = ArtworksList([listed("older", BODY, -CLOCK_SKEW.total_seconds() - 5)])
    assert reconcile([Intent(7, BODY, INTENT_AT)], artworks, owned=set(), max_pages=3) == {}


def test_an_artwork_the_ledger_already_holds_is_never_adopted_twice() -> None:
    artworks = ArtworksList([listed("recorded", BODY, 1)])
    assert reconcile([Intent(7, BODY, INTENT_AT)], artworks, owned={"recorded"}, max_pages=3) == {}


def test_identical_items_each_adopt_their_own_artwork() -> None:
    artworks = ArtworksList([listed("first", BODY, 1), listed("second", BODY, 2)])
    intents = [Intent(3, BODY, INTENT_AT), Intent(9, BODY, INTENT_AT)]
    found = reconcile(intents, artworks, owned=set(), max_pages=3)
    assert {index: artwork.id for index, artwork in found.items()} == {3: "first", 9: "second"}


def test_the_api_clock_may_run_a_little_behind() -> None:
    artworks = ArtworksList([listed("made", BODY, -CLOCK_SKEW.total_seconds() + 1)])
    assert reconcile([Intent(7, BODY, INTENT_AT)], artworks, owned=set(), max_pages=3)[7].id == "made"


def test_reading_stops_at_artworks_older_than_every_intent() -> None:
    newer = [listed(f"new-{n}", {"imageUrl": f"https://img.example/{n}"}, 10) for n in range(LIST_LIMIT_MAX)]
    older = [listed(f"old-{n}", BODY, -3600) for n in range(LIST_LIMIT_MAX * 3)]
    artworks = ArtworksList([*newer, *older])
    assert reconcile([Intent(7, BODY, INTENT_AT)], artworks, owned=set(), max_pages=10) == {}
    assert artworks.pages == 2  # the second page starts with artworks from before the intent


def test_a_prompt_the_api_truncated_still_matches_but_another_prompt_does_not() -> None:
    sent = {"prompt": "red shoe on a white table in soft light", "effort": 2}
    assert echoes(sent, {"prompt": "red shoe on a white", "effort": 2, "added": True})
    assert not echoes(sent, {"prompt": "blue shoe", "effort": 2})
    assert not echoes(sent, {"prompt": "red shoe on a white table in soft light"})  # effort missing


def test_pages_read_cover_the_batch_and_a_few_more() -> None:
    assert page_limit(0) == page_limit(1) == page_limit(LIST_LIMIT_MAX) < page_limit(LIST_LIMIT_MAX + 1)
