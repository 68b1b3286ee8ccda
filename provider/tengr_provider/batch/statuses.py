"""Read the statuses of many artworks from the worker, with as few calls as the artworks list allows.

The worker-side twin of one round of the triggerer's shared status poller
(:mod:`tengr_provider.triggers._poller`), with its page size and page budget: pages of the list, newest
first, until every id was seen; then each id the list did not show, one by one. The triggerer's poller
is asynchronous and resolves waits; a batch on its worker needs the answer now, synchronously.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from tengr_provider.exceptions import TRANSIENT_ERRORS, TengrApiError
from tengr_provider.models import Artwork
from tengr_provider.triggers._poller import PAGE_LIMIT, list_unusable, page_budget


class StatusHook(Protocol):
    """What reading statuses needs of :class:`~tengr_provider.hooks.tengr.TengrHook`."""

    def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]: ...

    def get_artwork(self, artwork_id: str) -> Artwork: ...


@dataclass
class StatusRead:
    """One read: the artworks found, and the ids whose read failed for good."""

    artworks: dict[str, Artwork] = field(default_factory=dict)
    gone: dict[str, TengrApiError] = field(default_factory=dict)


def read_statuses(hook: StatusHook, artwork_ids: Collection[str]) -> StatusRead:
    """The current state of ``artwork_ids``.

    A 429, 5xx or connection failure that outlasts the hook's retries is raised (the caller tries again
    later), as is a refused key; a list that refuses the page or answers unreadably is read around, id
    by id; any other failure of one id's read (a 404) lands in ``gone``.
    """
    read = StatusRead()
    unseen = set(artwork_ids)
    for page_number in range(page_budget(len(unseen))):
        if not unseen:
            break
        try:
            page = hook.list_artworks(page_number * PAGE_LIMIT, PAGE_LIMIT)
        except TengrApiError as error:
            if not list_unusable(error):
                raise
            break  # as the triggerer's poller does: the ids the list did not show are read one by one
        for artwork in page:
            if artwork.id in unseen:
                read.artworks[artwork.id] = artwork
                unseen.discard(artwork.id)
        if len(page) < PAGE_LIMIT:
            break
    for artwork_id in sorted(unseen):
        try:
            read.artworks[artwork_id] = hook.get_artwork(artwork_id)
        except TRANSIENT_ERRORS:
            raise
        except TengrApiError as error:
            read.gone[artwork_id] = error
    return read
