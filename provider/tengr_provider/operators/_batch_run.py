"""One stretch of a batch on its worker: submit, read statuses, store, until it ends or must wait.

:class:`BatchRun` is what :class:`~tengr_provider.operators.batch.TengrBatchOperator` runs on each
execution (the first, each resumption after a deferral, each retry). Everything it learns goes through
the ledger's records (:mod:`tengr_provider.batch.ledger`) and is applied to its memory with the same
function a later replay uses, so what a resumed or retried task knows is exactly what was written.

One thread (the task's) decides; two bounded pools do the slow parts: creates (through one
:class:`~tengr_provider.batch.pacing.Pace`) and copies (through the result copier). Each wave of creates
is preceded by one ledger segment holding its intents (and what the previous wave made), so no create
goes out before its intent is durable.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from tengr_provider.batch import ledger as records
from tengr_provider.batch.items import Item
from tengr_provider.batch.ledger import LEASE_REFRESH, BatchLedger
from tengr_provider.batch.outcome import ItemState, Outcome
from tengr_provider.batch.pacing import Pace
from tengr_provider.batch.reconcile import Intent, page_limit, reconcile, utc
from tengr_provider.batch.report import Progress
from tengr_provider.batch.statuses import read_statuses
from tengr_provider.endpoints import endpoint_route
from tengr_provider.exceptions import (
    TRANSIENT_ERRORS,
    TengrApiError,
    TengrAuthError,
    TengrNotFoundError,
    TengrRateLimitError,
)
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.models import Artwork, ArtworkStatus, StyleDnaImage
from tengr_provider.storage import ResultCopier, style_dna_file_stem

#: Creates one wave sends at most: the intents of a wave are one ledger segment.
WAVE_MAX = 100
#: Threads sending creates, and threads copying images, at most.
CREATE_THREADS = 16
#: Seconds between an ambiguous create failure and the look for its artwork in the list: a create
#: the API is still working on may not be listed yet.
RECONCILE_DELAY = 5.0
#: Seconds between two ledger segments holding only ends (stored files) while nothing else is written.
FLUSH_EVERY = 10.0
#: How many of the latest ended artworks the expected wait is judged by.
MEDIAN_OF = 200

#: What a create thread reports: what was made, or why nothing (for certain or perhaps) was.
CreateResult = tuple[Literal["made", "unknown", "rejected", "abort", "gave_up"], Any]


@dataclass(frozen=True)
class BatchSettings:
    """What a run needs from the operator's arguments."""

    endpoint: str
    tengr_conn_id: str
    max_in_flight: int
    poll_interval: float
    copy_concurrency: int
    max_image_bytes: int
    output_path: Any
    #: Valid items of the input, for the progress line.
    items: int


@dataclass(frozen=True, slots=True)
class _ToStore:
    """What storing one item needs: its images' URLs and the name they are stored under.

    :param numbered: ``<stem>_<n>.<ext>`` per image (an artwork's id); else one file ``<stem>.<ext>``
        (style-dna's name derived from its request).
    """

    index: int
    urls: tuple[str, ...]
    stem: str
    numbered: bool


class BatchAbortedError(Exception):
    """No create can succeed (the key is refused, the route is missing): the batch stops, ledger written."""


class BatchSupersededError(Exception):
    """Another try of the task holds the ledger's lease: this one, left running by a lost worker, stops."""


class BatchRun:
    """One stretch of the batch: :meth:`run` until it answers ``finished``, ``wait`` or ``timeout``.

    :param ledger: the batch's ledger, its generation chosen.
    :param deadline: the batch's deadline (epoch seconds) for this try.
    :param new_try: a new try of the task (not a resumption): outcomes that a retry takes up again are
        taken up (see :data:`~tengr_provider.batch.outcome.ON_RETRY`).
    """

    def __init__(
        self,
        settings: BatchSettings,
        ledger: BatchLedger,
        hook: TengrHook,
        deadline: float,
        logger: Any,
        *,
        new_try: bool,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.hook = hook
        self.deadline = deadline
        self.log = logger
        self.pace = Pace(hook.settings.backoff_initial, hook.settings.backoff_max)
        grace = ledger.take_lease()
        if grace:
            logger.warning(
                "tengr.ai batch: an earlier try may still be running (its worker was lost, not its task); "
                "it stops at its next wave: waiting %g s before reading the ledger",
                grace,
            )
            time.sleep(grace)
        self._lease_checked = time.monotonic()
        self.states: dict[int, ItemState] = ledger.load().items
        if new_try:
            for state in self.states.values():
                state.start_try()
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self.in_flight: dict[str, int] = {}
        #: When this stretch saw each in-flight artwork made (monotonic), and how long ended ones took.
        self._made_at: dict[str, float] = {}
        self._durations: deque[float] = deque(maxlen=MEDIAN_OF)
        self.reconciling: dict[int, float] = {}
        self.recreate: list[int] = []
        #: Copies handed to the pool, as slim records: a backlog of thousands holds URLs, not artworks.
        self.copying: dict[Future[list[str]], _ToStore] = {}
        self._pending: Iterator[Item] | None = None
        self._exhausted = False
        self._last_round = 0.0
        self.created = 0
        self._local = threading.local()
        self._copiers: list[ResultCopier] = []
        self._thread_hooks: list[TengrHook] = []
        self._resources_lock = threading.Lock()
        self._style_dna = endpoint_route(settings.endpoint).call == "style-dna"  # not style-dna/edit
        self._stems: dict[int, str] = {}
        # A create the earlier try may still have had in flight ends within one HTTP timeout: only then
        # does the artworks list tell whether it made an artwork.
        settle = hook.settings.timeout + RECONCILE_DELAY if grace else 0.0
        for index, state in self.states.items():
            if state.outcome is not None:
                continue
            if state.artwork_id is not None:
                self.in_flight[state.artwork_id] = index
            elif state.intent_at is not None and state.answer is None:
                self.reconciling[index] = state.intent_at + settle
        self._remember_stems([i for i, s in self.states.items() if s.outcome is None and s.made])
        self._creates = ThreadPoolExecutor(min(CREATE_THREADS, settings.max_in_flight), "tengr-batch-create")
        self._copies = ThreadPoolExecutor(settings.copy_concurrency, "tengr-batch-copy")
        for index, state in self.states.items():
            if state.outcome is None and state.artwork_id is None and state.answer is not None:
                self._copy(index, StyleDnaImage.model_validate(state.answer))
        self.progress = Progress(settings.items, logger, done=self._ended_count())

    # -- the loop -----------------------------------------------------------------------------------------

    def run(self) -> Literal["finished", "wait", "timeout"]:
        """Go on until every item ended (``finished``), nothing can go on without waiting (``wait``), or the
        deadline passed (``timeout``). The ledger holds everything when it returns."""
        try:
            while True:
                self._collect_copies(block=False)
                if time.time() >= self.deadline:
                    self._time_out()
                    return "timeout"
                self._reconcile_due()
                submitted = self._submit_wave()
                if time.monotonic() - self._last_round >= self.settings.poll_interval:
                    self._read_round()
                self._tick()
                if self._finished():
                    self._tick(force=True)
                    return "finished"
                if submitted or self.recreate:
                    continue
                if self.copying:
                    self._collect_copies(block=True)
                    continue
                if self.reconciling:
                    time.sleep(max(min(self.reconciling.values()) - time.time(), 0.05))
                    continue
                if self.in_flight and time.monotonic() - self._last_round > 1.0:
                    before = len(self.in_flight)
                    self._read_round()  # one look before waiting: something may have just ended
                    if len(self.in_flight) < before:
                        continue
                return "wait"
        finally:
            self._flush()

    def close(self) -> None:
        """Stop the pools (waiting for copies in flight), hand the lease on, release every connection."""
        self._creates.shutdown(wait=True)
        self._copies.shutdown(wait=True)
        self.ledger.release_lease()
        with self._resources_lock:
            for copier in self._copiers:
                copier.close()
            for hook in self._thread_hooks:
                hook.close()
        self.hook.close()

    def expected_wait(self) -> float | None:
        """Seconds until every in-flight artwork should have ended, judged by how long the ended ones
        took (their median, as this stretch saw them); ``None`` while that cannot be told."""
        if not self._durations or any(artwork_id not in self._made_at for artwork_id in self.in_flight):
            return None
        typical = statistics.median(self._durations)
        last = max(self._made_at[artwork_id] for artwork_id in self.in_flight)
        return max(last + typical - time.monotonic(), 0.0)

    def wait_on_worker(self, seconds: float | None = None) -> None:
        """Sleep until the next look (one poll interval, or ``seconds``), never past the deadline."""
        pause = self.settings.poll_interval if seconds is None else seconds
        time.sleep(max(min(pause, self.deadline - time.time()), 0))

    def _finished(self) -> bool:
        return (
            self._exhausted
            and not self.recreate
            and not self.in_flight
            and not self.copying
            and not self.reconciling
        )

    def _ended_count(self) -> int:
        return sum(1 for state in self.states.values() if state.outcome is not None)

    def _tick(self, force: bool = False) -> None:
        if not (force or self.progress.due()):
            return
        stored = sum(1 for state in self.states.values() if state.outcome is Outcome.SUCCEEDED)
        self.progress.tick(
            created=self.created,
            in_flight=len(self.in_flight),
            succeeded=stored + len(self.copying),
            failed=self._ended_count() - stored,
            stored=stored,
            force=force,
        )

    # -- the ledger -----------------------------------------------------------------------------------

    def _record(self, record: dict[str, Any]) -> None:
        records.apply(self.states, record)
        self._buffer.append(record)

    def _flush(self) -> None:
        self.ledger.append(self._buffer)
        self._buffer = []
        self._last_flush = time.monotonic()

    # -- creating -------------------------------------------------------------------------------------

    def _next_pending(self, wanted: int) -> list[Item]:
        """Up to ``wanted`` items to create: first those to create again, then the input's next ones."""
        batch: list[Item] = []
        if self.recreate:
            again = set(self.recreate[:wanted])
            self.recreate = self.recreate[wanted:]
            batch += [item for item in self.ledger.items() if item.index in again]
        if self._pending is None:
            self._pending = self.ledger.items()
        while len(batch) < wanted and not self._exhausted:
            item = next(self._pending, None)
            if item is None:
                self._exhausted = True
            elif item.body is not None and to_create(self.states.get(item.index)):
                batch.append(item)
        return batch

    def _submit_wave(self) -> int:
        free = self.settings.max_in_flight - len(self.in_flight) - len(self.reconciling)
        if free <= 0:
            return 0
        wave = self._next_pending(min(free, WAVE_MAX))
        if not wave:
            return 0
        if not self.ledger.holds_lease():
            raise BatchSupersededError(
                "tengr.ai batch: another try of this task took the batch over; this one stops creating"
            )
        now = time.time()
        for item in wave:
            self._record(records.intent(item.index, item.fingerprint, now))
        self._flush()  # every intent of the wave is durable before its create goes out
        if self._style_dna:
            self._stems.update((item.index, style_dna_file_stem(item.body or {})) for item in wave)
        abort: Exception | None = None
        for item, (kind, value) in zip(wave, self._creates.map(self._create_one, wave), strict=True):
            if kind == "made":
                self.created += 1
                self._made(item.index, value)
            elif kind == "unknown":
                self.log.warning(
                    "tengr.ai batch item %d: the create may have reached the API (%s); looking for its "
                    "artwork in the artworks list before creating it again",
                    item.index,
                    value,
                )
                self.reconciling[item.index] = time.time() + RECONCILE_DELAY
            elif kind == "rejected":
                self._record(records.ended(item.index, Outcome.REJECTED, error=str(value)))
            else:
                self._record(records.ended(item.index, Outcome.NOT_STARTED, error=str(value)))
                if kind == "abort":
                    abort = value
        if abort is not None:
            self._flush()
            raise BatchAbortedError(f"tengr.ai batch stopped, no create can succeed: {abort}") from abort
        return len(wave)

    def _create_one(self, item: Item) -> CreateResult:
        """Send one create through the batch's pace (in a create thread); never raises."""
        hook = self._thread_hook()
        body = item.body or {}
        while True:
            if time.time() >= self.deadline:
                return "gave_up", "the batch's timeout passed while the API was refusing creates (429)"
            round_ = self.pace.wait()
            try:
                if self._style_dna:
                    answer: Artwork | StyleDnaImage = hook.submit_style_dna(body)
                else:
                    answer = hook.create_artwork(self.settings.endpoint, body)
            except TengrRateLimitError as error:
                self.pace.refused(round_, error.retry_after)
                if self._lease_lost():
                    return "gave_up", "another try of this task took the batch over"
                continue
            except (TengrAuthError, TengrNotFoundError) as error:
                return "abort", error
            except TRANSIENT_ERRORS as error:  # a 5xx or no answer (429s are caught above): it may have
                return "unknown", error  # arrived
            except TengrApiError as error:
                # A status the API answered (400): nothing was made. No status: the answer was unreadable.
                return ("rejected" if error.status_code is not None else "unknown"), error
            except Exception as error:  # an unexpected failure after the request: it may have arrived
                return "unknown", error
            self.pace.accepted()
            return "made", answer

    def _lease_lost(self) -> bool:
        """Whether another try took the batch over (looked up at most every ``LEASE_REFRESH`` seconds)."""
        with self._resources_lock:
            if time.monotonic() - self._lease_checked < LEASE_REFRESH:
                return False
            self._lease_checked = time.monotonic()
        return not self.ledger.holds_lease()

    def _thread_hook(self) -> TengrHook:
        """This thread's hook: 429s come back at once (the pace handles them), an ambiguous failure of a
        create is never retried (reconciliation finds out whether it created something)."""
        hook: TengrHook | None = getattr(self._local, "hook", None)
        if hook is None:
            with self._resources_lock:
                self._thread_hooks.append(
                    hook := TengrHook(self.settings.tengr_conn_id, rate_limit_timeout=0, retry_creates=False)
                )
            self._local.hook = hook
        return hook

    def _made(self, index: int, answer: Artwork | StyleDnaImage, *, adopted: bool = False) -> None:
        if isinstance(answer, StyleDnaImage):
            self._record(records.made(index, None, answer=answer.to_api()))
            self._copy(index, answer)
            return
        self._record(records.made(index, answer.id, adopted=adopted))
        if answer.status.is_terminal:
            self._ended(index, answer)
        else:
            self.in_flight[answer.id] = index
            if not adopted:
                self._made_at[answer.id] = time.monotonic()

    def _ended(self, index: int, artwork: Artwork) -> None:
        """An artwork reached a final status: store its images, or record how it failed."""
        self.in_flight.pop(artwork.id, None)
        made_at = self._made_at.pop(artwork.id, None)
        if made_at is not None:
            self._durations.append(time.monotonic() - made_at)
        if artwork.status.is_success:
            self._copy(index, artwork)
        else:
            outcome = Outcome.CANCELED if artwork.status is ArtworkStatus.CANCELED else Outcome.FAILED
            error = f"tengr.ai artwork {artwork.id} ended with status {artwork.status.value!r}"
            self._record(records.ended(index, outcome, results=artwork.results, error=error))

    # -- reconciling ----------------------------------------------------------------------------------

    def _reconcile_due(self) -> None:
        now = time.time()
        due = [index for index, at in self.reconciling.items() if at <= now]
        if not due:
            return
        for index in due:
            del self.reconciling[index]
        if self._style_dna and self.hook.settings.api_version == "v1":
            # V1 style-dna answers with an image, which the artworks list never shows: nothing to find.
            self.recreate += due
            return
        wanted = set(due)
        intents = [
            Intent(item.index, item.body or {}, self.states[item.index].intent_at or now)
            for item in self.ledger.items()
            if item.index in wanted
        ]
        owned = {state.artwork_id for state in self.states.values() if state.artwork_id}
        try:
            found = reconcile(intents, self.hook.list_artworks, owned, max_pages=page_limit(len(self.states)))
        except TRANSIENT_ERRORS as error:
            self.log.warning("tengr.ai batch: cannot read the artworks list yet (%s); trying again", error)
            for index in due:
                self.reconciling[index] = now + self.settings.poll_interval
            return
        for index in due:
            artwork = found.get(index)
            if artwork is None:
                self.recreate.append(index)
                continue
            self.log.warning(
                "tengr.ai batch item %d: adopted artwork %s, which its lost create made", index, artwork.id
            )
            self._made(index, artwork, adopted=True)
        if found:
            self.log.warning(
                "tengr.ai batch: %d of %d unrecorded creates found in the artworks list", len(found), len(due)
            )

    # -- waiting --------------------------------------------------------------------------------------

    def _read_round(self) -> None:
        self._last_round = time.monotonic()
        if not self.in_flight:
            return
        try:
            read = read_statuses(self.hook, list(self.in_flight))
        except TRANSIENT_ERRORS as failure:
            self.log.warning("tengr.ai batch: status read failed (%s); trying again next interval", failure)
            return
        for artwork in read.artworks.values():
            index = self.in_flight.get(artwork.id)
            if index is None:
                continue
            if artwork.id not in self._made_at and artwork.created_at is not None:
                # Reconnected (a resumption, a retry): its age from the API's own clock.
                age = max(time.time() - utc(artwork.created_at).timestamp(), 0.0)
                self._made_at[artwork.id] = time.monotonic() - age
            if artwork.status.is_terminal:
                self._ended(index, artwork)
        for artwork_id, error in read.gone.items():
            index = self.in_flight.pop(artwork_id)
            self._record(
                records.ended(index, Outcome.FAILED, error=f"tengr.ai artwork {artwork_id}: {error}")
            )

    def _time_out(self) -> None:
        """The deadline passed: what is unfinished is recorded as such (a retry takes it up again)."""
        self._collect_copies(block=True, until_empty=True)
        for artwork_id, index in list(self.in_flight.items()):
            self._record(
                records.ended(
                    index,
                    Outcome.TIMED_OUT,
                    error=f"tengr.ai artwork {artwork_id} unfinished at the batch's timeout",
                )
            )
        self.in_flight.clear()
        for index in list(self.reconciling):
            self._record(
                records.ended(
                    index,
                    Outcome.TIMED_OUT,
                    error="its create's answer was lost; not yet found in the artworks list",
                )
            )
        self.reconciling.clear()

    # -- storing --------------------------------------------------------------------------------------

    def _copy(self, index: int, made: Artwork | StyleDnaImage) -> None:
        """Queue the storing of what item ``index`` made (an artwork, or V1 style-dna's image)."""
        if isinstance(made, StyleDnaImage):
            job = _ToStore(index, (made.image_url,), self._stems[index], numbered=False)
        elif self._style_dna:  # V2: the image is the artwork's first result, named after the request
            try:
                image_url = StyleDnaImage.from_artwork(made).image_url
            except ValueError as error:
                self._record(records.ended(index, Outcome.STORE_FAILED, error=str(error)))
                return
            job = _ToStore(index, (image_url,), self._stems[index], numbered=False)
        else:
            job = _ToStore(index, tuple(made.results), made.id, numbered=True)
        self.copying[self._copies.submit(self._copy_one, job)] = job

    def _copy_one(self, job: _ToStore) -> list[str]:
        copier: ResultCopier | None = getattr(self._local, "copier", None)
        if copier is None:
            copier = self._local.copier = ResultCopier(
                self.settings.output_path, max_bytes=self.settings.max_image_bytes
            )
            with self._resources_lock:
                self._copiers.append(copier)
        if job.numbered:
            return copier.copy_all(job.urls, job.stem)
        return [copier.copy(job.urls[0], job.stem)]

    def _collect_copies(self, *, block: bool, until_empty: bool = False) -> None:
        while self.copying:
            done, _ = wait(list(self.copying), timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in done:
                job = self.copying.pop(future)
                results = list(job.urls)
                try:
                    files = future.result()
                except Exception as error:  # any failure to store is this item's, not the batch's
                    self._record(
                        records.ended(job.index, Outcome.STORE_FAILED, results=results, error=str(error))
                    )
                else:
                    self._record(records.ended(job.index, Outcome.SUCCEEDED, files=files, results=results))
            if not until_empty:
                break
        if time.monotonic() - self._last_flush >= FLUSH_EVERY:
            self._flush()

    def _remember_stems(self, indexes: list[int]) -> None:
        """Style-dna files are named after their request: keep the names of what is still to store."""
        if not self._style_dna or not indexes:
            return
        wanted = set(indexes)
        self._stems.update(
            (item.index, style_dna_file_stem(item.body or {}))
            for item in self.ledger.items()
            if item.index in wanted
        )


def to_create(state: ItemState | None) -> bool:
    """An item nothing was made for, nor may have been (no intent without its answer), and not ended."""
    return state is None or (state.outcome is None and not state.made and state.intent_at is None)
