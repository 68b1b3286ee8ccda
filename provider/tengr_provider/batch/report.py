"""What a batch leaves for people: the manifest, the contact sheet and the progress line in the task log.

The manifest (``manifest.jsonl``) and the contact sheet (``contact_sheet.html``) live in
``<output_path>/_tengr_manifests/<dag_id>/<run_id>/<task_id>/<map_index>/``: a folder whose name starts
with ``_`` (a listing of results never mixes them in) and says what it holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tengr_provider.batch.items import Item
from tengr_provider.batch.ledger import BatchLedger, TaskKey
from tengr_provider.batch.outcome import Counts, ItemState, Outcome
from tengr_provider.contact_sheet import Figure, render_page
from tengr_provider.storage import as_storage_path, is_local, remove_partials, write_atomically
from tengr_provider.version_compat import ObjectStoragePath

#: The manifests' folder under ``output_path``.
MANIFEST_FOLDER = "_tengr_manifests"
MANIFEST_NAME = "manifest.jsonl"
CONTACT_SHEET_NAME = "contact_sheet.html"
#: Results the contact sheet shows (the first ones, in item order).
CONTACT_SHEET_LIMIT = 200
#: Seconds between two progress lines in the task log.
PROGRESS_EVERY = 30.0


def manifest_lines(
    items: Iterable[Item], states: Mapping[int, ItemState], outcomes: list[Outcome] | None = None
) -> Iterator[str]:
    """One JSON line per item, in order: what it asked for (fingerprint) and what became of it.

    :param outcomes: when given, each item's outcome is appended to it (to count them in the same pass).
    """
    for item in items:
        state = states.get(item.index, ItemState())
        outcome = Outcome.INVALID if item.body is None else state.outcome or Outcome.NOT_STARTED
        if outcomes is not None:
            outcomes.append(outcome)
        line = {
            "index": item.index,
            "fingerprint": item.fingerprint,
            "artwork_id": state.artwork_id,
            "status": outcome.value,
            "files": state.files,
            "results": state.results,
            "error": "; ".join(item.problems) if item.body is None else state.error,
        }
        yield json.dumps(line, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class BatchReport:
    """Where a batch's manifest and contact sheet go."""

    folder: ObjectStoragePath
    output_path: ObjectStoragePath

    @classmethod
    def for_task(cls, output_path: str | ObjectStoragePath, key: TaskKey) -> BatchReport:
        return cls(key.under(output_path, MANIFEST_FOLDER), as_storage_path(output_path))

    @property
    def manifest(self) -> ObjectStoragePath:
        return self.folder / MANIFEST_NAME

    @property
    def contact_sheet(self) -> ObjectStoragePath:
        return self.folder / CONTACT_SHEET_NAME

    def write(self, ledger: BatchLedger, states: Mapping[int, ItemState], title: str) -> Counts:
        """Write the manifest (streamed from the ledger's items) and the contact sheet; count outcomes."""
        if is_local(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
        outcomes: list[Outcome] = []
        lines = manifest_lines(ledger.items(), states, outcomes)
        write_atomically(self.manifest, (line.encode() for line in lines))
        page = render_page(title, ("item", "result", "artwork"), self._sheet_rows(states))
        write_atomically(self.contact_sheet, [page.encode()])
        remove_partials(self.folder, (MANIFEST_NAME, CONTACT_SHEET_NAME))
        return Counts.of(outcomes)

    def remove_partials(self, states: Mapping[int, ItemState]) -> int:
        """Remove what killed copies of this batch left in ``output_path`` (hidden ``.part`` objects)."""
        names = {file.rpartition("/")[2] for state in states.values() for file in state.files}
        return remove_partials(self.output_path, names) if names else 0

    def _sheet_rows(self, states: Mapping[int, ItemState]) -> Iterator[list[Any]]:
        shown = 0
        for index in sorted(states):
            state = states[index]
            if state.outcome is not Outcome.SUCCEEDED:
                continue
            figures = [Figure(self._relative(file), state.artwork_id or "") for file in state.files]
            yield [str(index), figures, state.artwork_id or ""]
            shown += 1
            if shown >= CONTACT_SHEET_LIMIT:
                return

    def _relative(self, file: str) -> str:
        """A stored file's address seen from the contact sheet: relative when it is under ``output_path``."""
        root = str(self.output_path).rstrip("/") + "/"
        if not file.startswith(root):
            return file
        depth = len(str(self.folder)[len(root) :].strip("/").split("/"))
        return "../" * depth + "/".join(quote(part) for part in file[len(root) :].split("/"))


class Progress:
    """The progress line: created, in flight, succeeded, failed, stored, rate and ETA, every 30 s.

    :param total: the valid items of the batch.
    :param done: items that had already ended when this stretch of the batch began (the rate and the
        ETA count what ends from now on).
    """

    _clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, total: int, logger: Any, *, done: int = 0, every: float = PROGRESS_EVERY) -> None:
        self.total = total
        self.every = every
        self._log = logger
        self._done_before = done
        self._started = self._last = self._clock()

    def due(self) -> bool:
        """Whether :attr:`every` seconds passed since the last line."""
        return self._clock() - self._last >= self.every

    def tick(
        self, *, created: int, in_flight: int, succeeded: int, failed: int, stored: int, force: bool = False
    ) -> None:
        """Log the line when it is :meth:`due` (or ``force``).

        :param succeeded: artworks that succeeded (stored or being stored).
        :param failed: items that ended without a stored result.
        :param stored: items whose images are all stored.
        """
        if not (force or self.due()):
            return
        now = self._last = self._clock()
        ended = stored + failed
        per_second = max(ended - self._done_before, 0) / max(now - self._started, 1e-9)
        remaining = max(self.total - ended, 0)
        eta = f"{remaining / per_second:.0f} s" if per_second > 0 else "unknown"
        self._log.info(
            "tengr.ai batch: %d created, %d in flight, %d succeeded, %d failed, %d stored of %d; "
            "%.1f items/min, ETA %s",
            created,
            in_flight,
            succeeded,
            failed,
            stored,
            self.total,
            per_second * 60,
            eta,
        )
