"""The batch's worker-side status reads: pages of the list, then the ids it did not show, one by one."""

from __future__ import annotations

import pytest

from tengr_provider.batch.statuses import read_statuses
from tengr_provider.exceptions import TengrApiError, TengrAuthError, TengrBadRequestError, TengrServerError
from tengr_provider.models import Artwork


def artwork(artwork_id: str, status: str = "processing") -> Artwork:
    return Artwork.model_validate({"id": artwork_id, "status": status, "results": []})


class FakeHook:
    """A list that answers with ``listed`` or fails with ``list_error``; reads by id always answer."""

    def __init__(self, listed: list[Artwork], list_error: TengrApiError | None = None) -> None:
        self.listed = listed
        self.list_error = list_error
        self.calls: list[str] = []

    def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        self.calls.append(f"list {offset}")
        if self.list_error is not None:
            raise self.list_error
        return self.listed[offset : offset + limit]

    def get_artwork(self, artwork_id: str) -> Artwork:
        self.calls.append(f"get {artwork_id}")
        return artwork(artwork_id, "succeeded")


def test_the_list_shows_what_it_can_and_the_rest_is_read_by_id() -> None:
    hook = FakeHook([artwork("a"), artwork("b")])
    read = read_statuses(hook, ["a", "b", "c"])
    assert {i: a.status.value for i, a in read.artworks.items()} == {
        "a": "processing",
        "b": "processing",
        "c": "succeeded",
    }
    assert hook.calls == ["list 0", "get c"]


@pytest.mark.parametrize(
    "refusal",
    [TengrBadRequestError(400, "limit must not be greater than 100"), TengrApiError(None, "unreadable")],
)
def test_a_list_that_refuses_the_page_is_read_around_id_by_id(refusal: TengrApiError) -> None:
    hook = FakeHook([], list_error=refusal)
    read = read_statuses(hook, ["b", "a"])
    assert sorted(read.artworks) == ["a", "b"]
    assert hook.calls == ["list 0", "get a", "get b"]


@pytest.mark.parametrize(
    "failure", [TengrServerError(503, "busy"), TengrAuthError(401, "Unauthorized")], ids=["transient", "key"]
)
def test_a_transient_failure_or_a_refused_key_is_raised(failure: TengrApiError) -> None:
    with pytest.raises(type(failure)):
        read_statuses(FakeHook([], list_error=failure), ["a"])
