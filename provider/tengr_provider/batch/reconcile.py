"""Find the artwork of a create whose answer was lost, so that it is adopted instead of paid for twice.

An intent without an artwork id means the create may or may not have reached the API (the worker was
killed, the connection dropped, the gateway answered 5xx). tengr.ai's artworks list echoes each
artwork's ``parameters`` and ``createdAt``, so the artwork, if it exists, is one whose parameters are
the request's and that was created after the intent (less :data:`CLOCK_SKEW`). Found: adopted. Not
found: created again.

What remains open (``docs/batch.md``): an artwork the list does not show yet, or no longer (past the
API's retention), or one beyond the pages read (other clients of the same key created many artworks
since), is not found and is created again; an identical request another client of the same key sent
in the same minutes could be adopted in its place. API V1 style-dna answers with an image, not an
artwork, so its lost answers cannot be found at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tengr_provider.models import LIST_LIMIT_MAX, Artwork, list_pages_for

#: How far the API's clock may run behind the worker's: an artwork stamped this much before the
#: intent still counts.
CLOCK_SKEW = timedelta(seconds=60)
#: List pages read beyond the ones the batch's own artworks fill, for other clients' artworks.
EXTRA_PAGES = 4


@dataclass(frozen=True)
class Intent:
    """A create that may have been sent: the item, its body and the (worker's epoch) time of the intent."""

    index: int
    body: Mapping[str, Any]
    at: float


def echoes(sent: Mapping[str, Any], echoed: Mapping[str, Any]) -> bool:
    """Whether an artwork's ``parameters`` are the request ``sent``.

    Every field sent must come back equal. The API may add fields (defaults) and keeps only the first
    words of a long prompt, so a text that came back shorter matches when its words begin the sent one.
    """
    for key, value in sent.items():
        if key not in echoed:
            return False
        back = echoed[key]
        if back == value:
            continue
        if isinstance(value, str) and isinstance(back, str) and back.split():
            words = back.split()
            if value.split()[: len(words)] == words:
                continue
        return False
    return True


def page_limit(artworks_of_batch: int) -> int:
    """List pages a reconciliation may read: the batch's own artworks could fill them all, plus a few."""
    return list_pages_for(max(artworks_of_batch, 1), extra=EXTRA_PAGES)


def reconcile(
    intents: Collection[Intent],
    list_page: Callable[[int, int], list[Artwork]],
    owned: Collection[str],
    *,
    max_pages: int,
) -> dict[int, Artwork]:
    """The artwork each intent made, for those the artworks list shows; ``{index: artwork}``.

    The list is read newest first (as the API lists) until it reaches artworks older than every intent,
    ends, or ``max_pages`` were read. An artwork is adopted at most once, never when the ledger already
    holds it (``owned``), and by the earliest intent it matches: two identical items each get one.

    :param list_page: ``(offset, limit) -> artworks``, e.g. ``TengrHook.list_artworks``.
    """
    if not intents:
        return {}
    cutoff = _moment(min(intent.at for intent in intents)) - CLOCK_SKEW
    candidates: list[Artwork] = []
    for page_number in range(max_pages):
        page = list_page(page_number * LIST_LIMIT_MAX, LIST_LIMIT_MAX)
        candidates += [
            artwork
            for artwork in page
            if artwork.id not in owned
            and artwork.created_at is not None
            and utc(artwork.created_at) >= cutoff
        ]
        oldest = [utc(artwork.created_at) for artwork in page if artwork.created_at is not None]
        if len(page) < LIST_LIMIT_MAX or (oldest and min(oldest) < cutoff):
            break
    candidates.sort(key=lambda artwork: utc(artwork.created_at))  # type: ignore[arg-type]
    adopted: dict[int, Artwork] = {}
    taken: set[str] = set()
    for intent in sorted(intents, key=lambda intent: (intent.at, intent.index)):
        earliest = _moment(intent.at) - CLOCK_SKEW
        for artwork in candidates:
            if artwork.id in taken or utc(artwork.created_at) < earliest:  # type: ignore[arg-type]
                continue
            if echoes(intent.body, artwork.parameters):
                adopted[intent.index] = artwork
                taken.add(artwork.id)
                break
    return adopted


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def utc(moment: datetime) -> datetime:
    """``moment`` with its zone: a ``createdAt`` that names none is UTC (the API writes ``Z``)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
