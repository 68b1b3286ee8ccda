"""A batch's items: read one at a time from a list or a JSONL/CSV object, validated, fingerprinted.

Every item is validated by the same code a single create uses
(:meth:`~tengr_provider.hooks.tengr.TengrHook.prepare_create`), before the batch sends anything. A
valid item becomes the body the API will receive and its fingerprint (the digest of that body, as in
the asset events); an invalid one keeps its ``field: rule`` lines. The input's fingerprint is the digest
of every item's, in order: a retry compares it with the one the ledger recorded, so a batch whose
upstream data moved does not silently adopt the artworks of another input.

Nothing here holds more than one item at a time: a 100,000-line file is read as a stream.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tengr_provider.assets import request_digest
from tengr_provider.models import ApiRequest
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.storage import as_storage_path, read_lines
from tengr_provider.version_compat import ObjectStoragePath

#: Bad items an error message lists; the rest are counted.
LISTED_PROBLEMS = 20
#: How ``requests_path`` is read, by the file's extension.
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)

#: Turns one raw item into the body the API would receive, or raises naming the field and the rule.
Prepare = Callable[[Any], dict[str, Any]]


class TengrBatchValidationError(ValueError):
    """Items of a batch broke the request rules; raised before the batch sends anything."""


@dataclass(frozen=True)
class Item:
    """One request of the batch, as the ledger keeps it.

    :param index: its position in the input, from 0 (a CSV's header is not an item).
    :param body: the validated body in the API's spelling, or ``None`` when the item is invalid.
    :param fingerprint: ``sha256:<hex>`` of ``body``; ``None`` when invalid.
    :param problems: the ``field: rule`` lines of an invalid item.
    """

    index: int
    body: dict[str, Any] | None = None
    fingerprint: str | None = None
    problems: tuple[str, ...] = ()

    def to_line(self) -> str:
        """The item as one JSON line of the ledger's items file."""
        if self.body is None:
            return json.dumps({"i": self.index, "invalid": list(self.problems)}, separators=(",", ":"))
        record = {"i": self.index, "fp": self.fingerprint, "body": self.body}
        return json.dumps(record, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_line(cls, line: str) -> Item:
        """The item :meth:`to_line` wrote."""
        record: dict[str, Any] = json.loads(line)
        if "invalid" in record:
            return cls(record["i"], problems=tuple(record["invalid"]))
        return cls(record["i"], record["body"], record["fp"])


@dataclass
class InputSummary:
    """What validating the whole input found: counts, the first problems and the input's fingerprint."""

    endpoint: str
    count: int = 0
    invalid: int = 0
    listed: list[str] = field(default_factory=list)
    _digest: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)

    def __post_init__(self) -> None:
        self._digest.update(self.endpoint.encode())

    def add(self, item: Item) -> None:
        """Count ``item`` into the summary and the fingerprint."""
        self.count += 1
        marker: str = item.fingerprint or "invalid:" + "|".join(item.problems)
        self._digest.update(f"\n{marker}".encode())
        if item.body is None:
            self.invalid += 1
            if len(self.listed) < LISTED_PROBLEMS:
                self.listed.append(f"item {item.index}: {'; '.join(item.problems)}")

    @property
    def valid(self) -> int:
        """Items that can be sent."""
        return self.count - self.invalid

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the endpoint and every item's fingerprint (or problems), in order."""
        return "sha256:" + self._digest.hexdigest()

    def error(self) -> TengrBatchValidationError:
        """The error that lists the bad items (the first :data:`LISTED_PROBLEMS`) and counts them."""
        more = self.invalid - len(self.listed)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return TengrBatchValidationError(
            f"{self.invalid} of {self.count} batch items are invalid (nothing was sent; skip_invalid=True "
            f"records them as invalid and sends the rest):\n  " + "\n  ".join(self.listed) + tail
        )


def validate(index: int, raw: object, prepare: Prepare) -> Item:
    """Item ``index`` of the input, valid (its body and fingerprint) or not (its problems)."""
    if isinstance(raw, _Unreadable):
        return Item(index, problems=(raw.reason,))
    if isinstance(raw, ApiRequest):
        raw = raw.model_dump(exclude_none=True)
    try:
        body = prepare(raw)
    except TengrRequestValidationError as error:
        return Item(index, problems=tuple(error.problems))
    return Item(index, body, request_digest(body))


def validated(raw_items: Iterable[object], prepare: Prepare, summary: InputSummary) -> Iterator[Item]:
    """Each raw item validated, in order, counted into ``summary`` as it passes."""
    for index, raw in enumerate(raw_items):
        item = validate(index, raw, prepare)
        summary.add(item)
        yield item


@dataclass(frozen=True)
class _Unreadable:
    """An input line that is not an item at all (not JSON, not an object)."""

    reason: str


def raw_items(requests: object, requests_path: object) -> Iterator[object]:
    """The raw items of exactly one of ``requests`` (a list) and ``requests_path`` (a URI), in order.

    :raises ValueError: both or neither were given, or one is of the wrong kind.
    """
    if (requests is None) == (requests_path is None):
        raise ValueError("requests / requests_path: give exactly one (a list of requests, or a file's URI)")
    if requests_path is not None:
        return read_requests_path(requests_path)
    if isinstance(requests, (str, bytes, dict)) or not isinstance(requests, Iterable):
        raise ValueError(
            f"requests: must be a list of requests (dicts or request models), got {type(requests).__name__}"
            " (a file? use requests_path)"
        )
    return iter(requests)


def read_requests_path(uri: object) -> Iterator[object]:
    """The items of a JSONL (one object per line) or CSV (a header, one item per row) object, streamed.

    In a CSV every value is text (the request models convert ``"3"`` to 3, ``"true"`` to True) and an
    empty cell is a field left out. A blank JSONL line is skipped, not an item.
    """
    if not isinstance(uri, (str, ObjectStoragePath)):
        raise ValueError(f"requests_path: must be a URI or an ObjectStoragePath, got {type(uri).__name__}")
    path = as_storage_path(uri)
    name = path.name.lower()
    if name.endswith(JSON_LINES_SUFFIXES):
        return _json_lines(path)
    if name.endswith(CSV_SUFFIXES):
        return _csv_rows(path)
    raise ValueError(
        f"requests_path: {uri} must end in {', '.join(JSON_LINES_SUFFIXES + CSV_SUFFIXES)} "
        "(JSON Lines, or CSV with a header row)"
    )


def _json_lines(path: ObjectStoragePath) -> Iterator[object]:
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield _Unreadable(f"line {number}: not JSON ({error.msg})")
            continue
        yield item if isinstance(item, dict) else _Unreadable(f"line {number}: not a JSON object")


def _csv_rows(path: ObjectStoragePath) -> Iterator[object]:
    reader = csv.DictReader(read_lines(path, newline=""))
    for row in reader:
        if None in row:
            yield _Unreadable(f"line {reader.line_num}: more cells than the header names")
            continue
        yield {key.strip(): value for key, value in row.items() if key and value not in (None, "")}
