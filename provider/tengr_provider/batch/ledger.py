"""The batch's ledger: what it asked for and what the API made, in object storage beside the results.

Where: ``<output_path>/_tengr_batch/<dag_id>/<run_id>/<task_id>/<map_index>/`` (see :class:`TaskKey`),
keyed without the try number, so every try, a cleared task and a task whose worker was killed find it.

What::

    head.json                      the input's fingerprint and the current generation
    gen-<g>/items.jsonl            every item as validated: its body and fingerprint, or its problems
    gen-<g>/log/<n>-<session>.jsonl          segments of records, replayed in name order
    gen-<g>/log/<n>-<session>.snapshot.jsonl the state of every item so far (older segments are removed)

Object stores cannot append, so the log is a folder of segments: each one is written whole (through a
hidden ``.part`` object renamed into place) and never changed. Records:

- ``intent``: a create of item ``i`` (its fingerprint, the epoch time) is about to be sent. It is
  durable before the create goes out;
- ``made``: the artwork id the create answered (or that reconciliation adopted), or API V1
  style-dna's image answer;
- ``end``: how the item ended (:class:`~tengr_provider.batch.outcome.Outcome`), its files and error.

A new generation (``fresh=True`` after the input changed) starts an empty log; the old one stays for
the record.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from tengr_provider.batch.items import Item
from tengr_provider.batch.outcome import ItemState, Outcome
from tengr_provider.storage import as_storage_path, is_local, partial_of, read_lines, write_atomically
from tengr_provider.version_compat import ObjectStoragePath

#: The ledger's folder under ``output_path``; a leading ``_`` keeps it apart from the results.
LEDGER_FOLDER = "_tengr_batch"
#: Segments replayed before a load writes a snapshot and removes them.
COMPACT_AFTER = 64
#: The lease (see :meth:`BatchLedger.take_lease`): a holder refreshes it at most this often, counts as
#: gone once it has not for :data:`LEASE_STALE` seconds, and a new holder waits :data:`LEASE_GRACE`
#: seconds before reading the ledger when the previous one may still be running.
LEASE_REFRESH = 5.0
LEASE_STALE = 120.0
LEASE_GRACE = 10.0
_SNAPSHOT = ".snapshot.jsonl"
_SEGMENT = re.compile(r"(\d{10})-[0-9a-f]+(\.snapshot)?\.jsonl")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+:=-]")


@dataclass(frozen=True)
class TaskKey:
    """The task instance a batch belongs to, without its try number."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    def parts(self) -> tuple[str, ...]:
        """Path segments, each safe as a file or object name (other characters become ``_``)."""
        return tuple(
            _UNSAFE.sub("_", part) for part in (self.dag_id, self.run_id, self.task_id, str(self.map_index))
        )

    def under(self, output_path: str | ObjectStoragePath, folder: str) -> ObjectStoragePath:
        """``<output_path>/<folder>/<dag_id>/<run_id>/<task_id>/<map_index>``."""
        path = as_storage_path(output_path) / folder
        for part in self.parts():
            path = path / part
        return path


@dataclass(frozen=True)
class Head:
    """``head.json``: which input the ledger is about, and its current generation."""

    generation: int
    input_fingerprint: str
    endpoint: str
    items: int
    invalid: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class LedgerState:
    """Every item's state as the log says (items it never mentions are untouched)."""

    items: dict[int, ItemState]
    segments_read: int = 0


class BatchLedger:
    """The ledger of one task instance's batch.

    :param root: the ledger's folder (see :meth:`TaskKey.under`).
    """

    def __init__(self, root: ObjectStoragePath) -> None:
        self.root = root
        self.session = uuid.uuid4().hex[:12]
        self._number = 1
        self._generation: int | None = None
        self._lease_refreshed = 0.0

    @classmethod
    def for_task(cls, output_path: str | ObjectStoragePath, key: TaskKey) -> BatchLedger:
        """The ledger of ``key`` under ``output_path``."""
        return cls(key.under(output_path, LEDGER_FOLDER))

    # -- the lease: one writer at a time --------------------------------------------------------------

    def take_lease(self) -> float:
        """Make this session the batch's one writer; return the seconds to wait before reading the ledger.

        A worker lost with its task process still running (Airflow's task runner sits in a process group
        of its own) leaves that process creating while a retry starts: two writers would create the same
        items. The holder checks :meth:`holds_lease` before each wave of creates and stops once another
        session took it; the new holder waits :data:`LEASE_GRACE` when the previous one did not release
        the lease and refreshed it within :data:`LEASE_STALE` seconds, so that whatever it still wrote
        is in the ledger when this session reads it.
        """
        previous = self._read_lease()
        self._write_lease(released=False)
        if previous is None or previous.get("released") or previous.get("session") == self.session:
            return 0.0
        return LEASE_GRACE if time.time() - float(previous.get("at", 0)) < LEASE_STALE else 0.0

    def holds_lease(self) -> bool:
        """Whether this session is still the batch's writer (refreshing the lease when it is due)."""
        if not self._lease_is_ours():
            return False
        if time.monotonic() - self._lease_refreshed >= LEASE_REFRESH:
            self._write_lease(released=False)
        return True

    def release_lease(self) -> None:
        """This session ends in order (it finished, deferred or failed): the next need not wait."""
        if self._lease_is_ours():
            self._write_lease(released=True)

    def _lease_is_ours(self) -> bool:
        """No other session has taken the lease (one written read once, no refresh)."""
        current = self._read_lease()
        return current is None or current.get("session") == self.session

    def _read_lease(self) -> dict[str, Any] | None:
        path = self.root / "lease.json"
        try:
            lease: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return lease

    def _write_lease(self, *, released: bool) -> None:
        lease = {"session": self.session, "at": time.time(), "released": released}
        self._write(self.root / "lease.json", [json.dumps(lease)])
        self._lease_refreshed = time.monotonic()

    # -- head and items ---------------------------------------------------------------------------------

    def read_head(self) -> Head | None:
        """The head, or ``None`` for a batch that never got past validation."""
        try:
            text = (self.root / "head.json").read_text()
        except FileNotFoundError:
            return None
        return Head(**json.loads(text))

    def write_head(self, head: Head) -> None:
        """Make ``head`` the ledger's head (written whole)."""
        self._write(self.root / "head.json", [head.to_json() + "\n"])
        self._generation = head.generation

    def use(self, generation: int) -> None:
        """Read and write generation ``generation`` from now on."""
        self._generation = generation

    @property
    def generation_folder(self) -> ObjectStoragePath:
        if self._generation is None:
            raise RuntimeError("the batch ledger has no generation yet (read or write its head first)")
        return self.root / f"gen-{self._generation}"

    def stage_items(self, items: Iterable[Item]) -> ObjectStoragePath:
        """Write ``items`` to a scratch object (consumed as they are written); see :meth:`commit_items`."""
        scratch = self.root / "scratch" / f"items-{self.session}.jsonl"
        self._write(scratch, (item.to_line() + "\n" for item in items))
        return scratch

    def commit_items(self, scratch: ObjectStoragePath, generation: int) -> None:
        """Make the staged items the items of ``generation``."""
        target = self.root / f"gen-{generation}" / "items.jsonl"
        self._prepare(target.parent)
        scratch.rename(target)

    @staticmethod
    def discard(scratch: ObjectStoragePath) -> None:
        """Remove staged items that are not needed (the ledger already has this input)."""
        if scratch.exists():
            scratch.unlink()

    def items(self) -> Iterator[Item]:
        """The current generation's items, in order, read as a stream."""
        for line in read_lines(self.generation_folder / "items.jsonl"):
            if line.strip():
                yield Item.from_line(line)

    # -- the log ----------------------------------------------------------------------------------------

    @property
    def log_folder(self) -> ObjectStoragePath:
        return self.generation_folder / "log"

    def load(self) -> LedgerState:
        """Replay the log; when it has grown long, fold it into a snapshot and remove what that replaces."""
        names = self._segment_names()
        start = max((n for n, name in enumerate(names) if name.endswith(_SNAPSHOT)), default=0)
        state = LedgerState(items={})
        for name in names[start:]:
            for line in read_lines(self.log_folder / name):
                if line.strip():
                    apply(state.items, json.loads(line))
        state.segments_read = len(names) - start
        last = _SEGMENT.fullmatch(names[-1]) if names else None
        self._number = (int(last.group(1)) + 1) if last else 1
        if state.segments_read > COMPACT_AFTER:
            self._snapshot(state, names)
        return state

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` as one new segment; they are durable when this returns."""
        if records:
            self._write(self._next_name(""), (_line(record) for record in records))

    def _snapshot(self, state: LedgerState, replaced: list[str]) -> None:
        records = ({"k": "state", "i": i, **asdict(item)} for i, item in sorted(state.items.items()))
        self._write(self._next_name(".snapshot"), (_line(record) for record in records))
        for name in replaced:
            with contextlib.suppress(FileNotFoundError):
                (self.log_folder / name).unlink()

    def _segment_names(self) -> list[str]:
        try:
            entries = list(self.log_folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):  # no segment yet (a local folder is not there)
            return []
        for entry in entries:
            if partial_of(entry.name) is not None:  # a segment a killed writer never put in place
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
        return sorted(entry.name for entry in entries if _SEGMENT.fullmatch(entry.name))

    def _next_name(self, kind: str) -> ObjectStoragePath:
        name = f"{self._number:010d}-{self.session}{kind}.jsonl"
        self._number += 1
        return self.log_folder / name

    def _write(self, target: ObjectStoragePath, lines: Iterable[str]) -> None:
        self._prepare(target.parent)
        write_atomically(target, (line.encode() for line in lines))

    @staticmethod
    def _prepare(folder: ObjectStoragePath) -> None:
        if is_local(folder):
            folder.mkdir(parents=True, exist_ok=True)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":")) + "\n"


def intent(index: int, fingerprint: str | None, at: float) -> dict[str, Any]:
    """The record that a create of item ``index`` is about to be sent."""
    return {"k": "intent", "i": index, "fp": fingerprint, "at": at}


def made(
    index: int, artwork_id: str | None, *, answer: dict[str, Any] | None = None, adopted: bool = False
) -> dict[str, Any]:
    """The record of what the create of item ``index`` made (or what reconciliation found)."""
    record: dict[str, Any] = {"k": "made", "i": index, "id": artwork_id}
    if answer is not None:
        record["answer"] = answer
    if adopted:
        record["adopted"] = True
    return record


def ended(
    index: int,
    outcome: Outcome,
    *,
    files: list[str] | None = None,
    results: list[str] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The record of how item ``index`` ended: its outcome, stored files, result URLs and error."""
    return {
        "k": "end",
        "i": index,
        "o": outcome.value,
        "files": files or [],
        "results": results or [],
        "error": error,
    }


def apply(items: dict[int, ItemState], record: dict[str, Any]) -> None:
    """Replay one record onto ``items``."""
    index = int(record["i"])
    kind = record["k"]
    if kind == "state":
        fields = {key: value for key, value in record.items() if key not in ("k", "i")}
        outcome = fields.pop("outcome", None)
        items[index] = ItemState(**fields, outcome=Outcome(outcome) if outcome else None)
        return
    state = items.setdefault(index, ItemState())
    if kind == "intent":
        state.intent_at, state.artwork_id, state.answer = float(record["at"]), None, None
        state.outcome, state.files, state.results, state.error = None, [], [], None
        state.attempts += 1
    elif kind == "made":
        state.intent_at = None
        state.artwork_id = record.get("id")
        state.answer = record.get("answer")
    elif kind == "end":
        state.outcome = Outcome(record["o"])
        state.files = list(record.get("files") or [])
        state.results = list(record.get("results") or [])
        state.error = record.get("error")
        if state.outcome is Outcome.REJECTED:
            state.intent_at = None  # the API answered with a refusal: nothing was made
