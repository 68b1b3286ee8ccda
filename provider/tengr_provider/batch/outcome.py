"""What became of each item of a batch, how a try starts from it, the counts and the failure policy.

One table says which outcomes a new try takes up again and how (:data:`ON_RETRY`); the manifest, the
XCom summary, the asset event and the failure decision all count the same :class:`Outcome` values.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tengr_provider.models import ArtworkStatus


class Outcome(str, enum.Enum):
    """An item's end, as the manifest names it (``status``)."""

    #: The artwork succeeded and every result image is stored under ``output_path``.
    SUCCEEDED = ArtworkStatus.SUCCEEDED.value
    #: The artwork ended ``failed``.
    FAILED = ArtworkStatus.FAILED.value
    #: The artwork ended ``canceled``.
    CANCELED = ArtworkStatus.CANCELED.value
    #: The API refused the create (a 4xx other than 429): nothing was created or paid.
    REJECTED = "rejected"
    #: The artwork succeeded but its images could not be stored; a retry copies them again.
    STORE_FAILED = "store_failed"
    #: Still unfinished when the batch's ``timeout`` passed; a retry waits for it again.
    TIMED_OUT = "timed_out"
    #: Never created: the batch ended first (its ``timeout``, or an error that stops every create).
    NOT_STARTED = "not_started"
    #: The item broke a request rule (``skip_invalid=True``); never sent.
    INVALID = "invalid"


#: Outcomes that count against ``max_failed_share``; ``invalid`` items were skipped on purpose.
FAILURES = frozenset(
    {
        Outcome.FAILED,
        Outcome.CANCELED,
        Outcome.REJECTED,
        Outcome.STORE_FAILED,
        Outcome.TIMED_OUT,
        Outcome.NOT_STARTED,
    }
)


class Retry(enum.Enum):
    """What a new try does with an item that ended so."""

    #: Done for good: skipped.
    KEEP = "keep"
    #: Its artwork exists: wait for it (or read it) and store its images again.
    RECONNECT = "reconnect"
    #: Create it again (the earlier artwork failed, or none was made).
    CREATE = "create"


#: The one table of what a retry does: it re-creates only what failed, and pays for nothing that exists.
ON_RETRY: dict[Outcome, Retry] = {
    Outcome.SUCCEEDED: Retry.KEEP,
    Outcome.INVALID: Retry.KEEP,
    Outcome.FAILED: Retry.CREATE,
    Outcome.CANCELED: Retry.CREATE,
    Outcome.REJECTED: Retry.CREATE,
    Outcome.NOT_STARTED: Retry.CREATE,
    Outcome.STORE_FAILED: Retry.RECONNECT,
    Outcome.TIMED_OUT: Retry.RECONNECT,
}


@dataclass(slots=True)
class ItemState:
    """What the ledger knows of one item; replayed from its records (see :mod:`.ledger`).

    :param intent_at: epoch seconds of a create that may have been sent and whose answer is not
        recorded (an intent without an artwork id); ``None`` otherwise.
    :param artwork_id: the artwork made for the item (created, or adopted from the artworks list).
    :param answer: API V1 style-dna's answer (it has no artwork id): the image and its expiry.
    :param outcome: how the item ended, once it has.
    """

    intent_at: float | None = None
    artwork_id: str | None = None
    answer: dict[str, Any] | None = None
    outcome: Outcome | None = None
    files: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    error: str | None = None
    attempts: int = 0

    @property
    def made(self) -> bool:
        """Whether something was made that can be waited for or stored (an artwork, or V1's image)."""
        return self.artwork_id is not None or self.answer is not None

    def start_try(self) -> None:
        """Prepare the item for a new try of the task, by :data:`ON_RETRY`."""
        if self.outcome is None or ON_RETRY[self.outcome] is Retry.KEEP:
            return
        if ON_RETRY[self.outcome] is Retry.CREATE:
            self.artwork_id, self.answer, self.intent_at = None, None, None
        # Reconnecting keeps what was made, or the intent that reconciliation will look up.
        self.outcome, self.files, self.results, self.error = None, [], [], None


@dataclass(frozen=True)
class FailurePolicy:
    """When a batch with failed items fails its task.

    :param fail_on_partial_error: fail the task when items failed (after storing every success).
    :param max_failed_share: the share of failed items (0..1) still tolerated when
        ``fail_on_partial_error`` is on.
    """

    fail_on_partial_error: bool = True
    max_failed_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.max_failed_share <= 1:
            raise ValueError(f"max_failed_share: must be between 0 and 1, got {self.max_failed_share}")

    def fails(self, counts: Counts) -> bool:
        """Whether the task fails with these counts."""
        if not self.fail_on_partial_error or counts.failed == 0:
            return False
        return counts.failed > self.max_failed_share * counts.sent


@dataclass(frozen=True)
class Counts:
    """Items by outcome; what the XCom, the asset event and the log report."""

    by_outcome: dict[str, int]

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Counts:
        """Count ``outcomes`` (one per item)."""
        tally = Counter(outcome.value for outcome in outcomes)
        return cls({outcome.value: tally.get(outcome.value, 0) for outcome in Outcome})

    @property
    def total(self) -> int:
        """Every item of the input."""
        return sum(self.by_outcome.values())

    @property
    def failed(self) -> int:
        """Items that count against the failure policy."""
        return sum(self.by_outcome[outcome.value] for outcome in FAILURES)

    @property
    def sent(self) -> int:
        """Items that were meant to be created (every item but the invalid ones)."""
        return self.total - self.by_outcome[Outcome.INVALID.value]

    def to_json(self) -> dict[str, int]:
        """``{"succeeded": 998, "failed": 2, ..., "total": 1000}``."""
        return {**self.by_outcome, "total": self.total}
