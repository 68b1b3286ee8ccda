"""One status poller per event loop and connection, shared by every waiting trigger.

Why: one artwork read (``GET /<version>/artworks/{id}``) per waiting artwork per interval spends a
rate-limited account's calls on asking "done yet?" (10,000 waits = 10,000 calls per interval). The
list endpoint answers for up to 500 artworks in one call, so the poller reads pages of it instead and
resolves every wait it sees.

How a round goes:

1. Read pages of the artworks list (``GET /<version>/artworks?offset&limit``, limit 500) until every
   registered id has been seen, a short page ends the list, or the page budget (:func:`page_budget`)
   is spent. The budget rests on the API listing **newest first**: the artworks waited for were
   created moments ago, so they sit on the first pages. Correctness does not depend on that order,
   only the call count does.
2. Read each registered id the list did not show, one by one (the artwork read). So a wait ends
   correctly whatever the list's order; when the order is not the assumed one this costs one call per
   id, as polling each id would.

The list is not trusted blindly (``tengr-doctor``'s ``list-fresh`` assumption): before the list, each
round reads :data:`SPOT_CHECKS` waits by id — those whose listed status has not moved for
:data:`STUCK_ROUNDS` rounds first, then a random pick — and a wait read by id needs no list. When the
list that follows shows such a wait less far along than its read (in flight, while the read said it
ended), the list lags: the poller says so once in the log and reads every wait by id for the next
:data:`DISTRUST_ROUNDS` rounds. A stale list then costs a few intervals per wait, never a hang; a
truthful one costs :data:`SPOT_CHECKS` reads per round, whatever the number of waits. With no more
waits than that, they are all read by id and the list is not read at all.

A 429, 5xx or connection failure that outlasts the hook's retries ends the round for everyone, and the
next round comes later (doubling up to :data:`MAX_BACKOFF_FACTOR` intervals): backoff applies to the
poller as a whole, not to each wait. A 401 or 403 on the list ends every wait. Any other failure of one
id's read ends that id's wait only (a 404, say); a list answer we cannot read, or one that refuses the
page (a 400 for a limit it does not take, a 404), falls back to the per-id reads. A status the poller does not
know is "still in flight". The poller stops, and closes its hook, when nobody waits.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tengr_provider.exceptions import TRANSIENT_ERRORS, TengrApiError
from tengr_provider.models import LIST_LIMIT_MAX, Artwork, list_lags, list_pages_for
from tengr_provider.waiting.policy import ArtworkWait

#: Items per list call: the API's maximum.
PAGE_LIMIT = LIST_LIMIT_MAX
#: Pages read beyond the ones the registered ids fill, for artworks created meanwhile by others.
EXTRA_PAGES = 2
#: After failing rounds the next one waits up to this many intervals.
MAX_BACKOFF_FACTOR = 8
#: Per-id fallback reads in flight at once: bounded, so a wrong list order cannot burst thousands.
FALLBACK_CONCURRENCY = 8
#: Each wait (a per-id trigger's, or a poller's round) is the poll interval times a random factor from
#: this range, so that waits deferred at once, or the pollers of several triggerers, do not poll in
#: lockstep bursts.
POLL_SPREAD = (0.9, 1.1)
#: Waits read by id each round before the list, the ones stuck longest first: the spot checks that
#: show a list lagging behind the artwork reads.
SPOT_CHECKS = 2
#: Rounds a wait's listed status may stay the same (and unread by id) before it is spot-checked first.
STUCK_ROUNDS = 5
#: Rounds every wait is read by id after a spot check caught the list lagging.
DISTRUST_ROUNDS = 10
#: List answers that end every wait: the key may not read the account.
_LIST_FATAL = frozenset({401, 403})

#: Waits one loop iteration resolves at most. A round that sees thousands of artworks finish hands
#: their triggers back to the loop in slices, yielding between them: 10,000 triggers resuming in one
#: iteration held every other coroutine of the triggerer for about 1.5 s.
RESOLVE_SLICE = 100


def list_unusable(exc: TengrApiError) -> bool:
    """Whether a failed list call is worked around by reading the ids one by one: an answer we cannot
    read, or a list that refuses the page (a smaller limit, no such route). Not a transient failure (the
    caller backs off and asks again) nor a refused key (401/403: every read by id would fail too)."""
    return not isinstance(exc, TRANSIENT_ERRORS) and exc.status_code not in _LIST_FATAL


class PollerHook(Protocol):
    """What the poller needs of :class:`~tengr_provider.hooks.tengr.TengrAsyncHook`."""

    async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]: ...

    async def get_artwork(self, artwork_id: str) -> Artwork: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class PollerKey:
    """What makes two waits share a poller: the connection.

    A trigger's connection id fixes everything its reads depend on (base URL, API key and the
    ``api_version`` extra, hence the paths), so waits of one id can share one list call.
    """

    conn_id: str


def page_budget(waiting: int) -> int:
    """List pages one round may read: enough for ``waiting`` newest artworks plus :data:`EXTRA_PAGES`."""
    return list_pages_for(waiting, extra=EXTRA_PAGES)


@dataclass
class _Registration:
    wait: ArtworkWait
    done: asyncio.Future[Artwork]


class StatusPoller:
    """Resolve the registered waits of one connection with as few API calls as the list allows.

    Use :func:`poller_for` to get the loop's poller for a key; :meth:`register` returns a future that
    ends with the final artwork (or the exception that ended this wait), and :meth:`unregister` drops a
    wait whose trigger was cancelled.
    """

    #: How the poller sleeps between rounds; tests replace it.
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(self, key: PollerKey, hook: PollerHook, logger: Any) -> None:
        self.key = key
        self._hook = hook
        self._log = logger
        self._waits: dict[str, list[_Registration]] = {}
        #: Which artwork each registered future waits for, so unregistering is cheap.
        self._ids: dict[asyncio.Future[Artwork], str] = {}
        self._task: asyncio.Task[None] | None = None
        #: Set once the poller is closing its hook: a cancel then would leave the session open.
        self._stopping = False
        self._failures = 0
        #: Calls made, by kind (``list``, ``get``), for benchmarks and tests.
        self.calls: dict[str, int] = {"list": 0, "get": 0}
        self._rounds = 0
        #: Each wait's last listed status and the round it last moved (or was read by id).
        self._listed: dict[str, tuple[str, int]] = {}
        #: Every wait is read by id up to and including this round (the list was caught lagging).
        self._distrust_until = 0
        self._lag_reported = False
        self._list_refused = False

    @property
    def waiting(self) -> int:
        """How many waits are registered."""
        return sum(len(regs) for regs in self._waits.values())

    def register(self, wait: ArtworkWait) -> asyncio.Future[Artwork]:
        """Add a wait; the future ends with the artwork once it is final, or with the wait's error."""
        future: asyncio.Future[Artwork] = asyncio.get_running_loop().create_future()
        self._waits.setdefault(wait.artwork_id, []).append(_Registration(wait, future))
        self._ids[future] = wait.artwork_id
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return future

    def unregister(self, future: asyncio.Future[Artwork]) -> None:
        """Drop the wait behind ``future`` (its trigger was cancelled, or it timed out)."""
        artwork_id = self._ids.pop(future, None)
        if artwork_id is not None:
            # O(waits on this one artwork), not O(all waits): 10,000 triggers unregister in one burst.
            kept = [reg for reg in self._waits.get(artwork_id, []) if reg.done is not future]
            if kept:
                self._waits[artwork_id] = kept
            else:
                self._waits.pop(artwork_id, None)
                self._listed.pop(artwork_id, None)
        if not future.done():
            future.cancel()
        if not self._waits and self._task is not None and not self._stopping:
            # Nobody waits: stop now rather than after a sleep that may be a long backoff.
            _forget(self)
            self._task.cancel()

    def _interval(self) -> float:
        return min(reg.wait.poll_interval for regs in self._waits.values() for reg in regs)

    async def _run(self) -> None:
        try:
            while self._waits:
                factor = 1.0
                try:
                    await self._round()
                    self._failures = 0
                except TRANSIENT_ERRORS as exc:
                    self._failures += 1
                    factor = min(2.0**self._failures, MAX_BACKOFF_FACTOR)
                    self._log.warning(
                        "tengr.ai status poller (%s, %d waits): %s; next round in %g intervals",
                        self.key.conn_id,
                        self.waiting,
                        exc,
                        factor,
                    )
                except Exception as exc:  # a 401/403 on the list: no wait can go on
                    for artwork_id in list(self._waits):
                        self._fail(artwork_id, exc)
                if not self._waits:
                    break
                await self._sleep(self._interval() * factor * random.uniform(*POLL_SPREAD))
        finally:
            # No await between the last check and here: a register() after this starts a new poller.
            _forget(self)
            self._stopping = True
            for regs in self._waits.values():
                for reg in regs:
                    if not reg.done.done():
                        reg.done.set_exception(RuntimeError("the tengr.ai status poller stopped"))
            await self._hook.close()

    async def _round(self) -> None:
        self._rounds += 1
        reads = await self._read_one_by_one(self._spot_checks())
        # Only a read that ended can show the list lagging: without one, no page needs comparing.
        ended = {artwork_id: read for artwork_id, read in reads.items() if read.status.is_terminal}
        unseen = {artwork_id for artwork_id in self._waits if artwork_id not in reads}
        budget = page_budget(len(unseen))
        offset = 0
        for _ in range(budget):
            if not unseen:
                break
            self.calls["list"] += 1
            try:
                page = await self._hook.list_artworks(offset, PAGE_LIMIT)
            except TengrApiError as exc:
                if not list_unusable(exc):
                    raise  # transient: the whole round backs off; 401/403: fails every wait below
                # The waits are read by id instead, as when the list does not show them.
                log = self._log.debug if self._list_refused else self._log.warning
                self._list_refused = True
                log("tengr.ai status poller: list unusable (%s); reading ids one by one", exc)
                break
            if ended:
                self._check_against_reads(page, ended)
            # A final status on the list can be trusted (a lagging list is late, never early): it ends
            # a wait read in flight by id this round too.
            seen = [
                artwork
                for artwork in page
                if artwork.id in unseen or (artwork.id in reads and artwork.status.is_terminal)
            ]
            unseen.difference_update(artwork.id for artwork in seen)
            self._note_listed(seen)
            await self._resolve_in_slices(seen)
            if len(page) < PAGE_LIMIT:
                break
            offset += PAGE_LIMIT
        await self._read_one_by_one([artwork_id for artwork_id in unseen if artwork_id in self._waits])

    def _spot_checks(self) -> list[str]:
        """The waits to read by id before the list: all of them while the list is distrusted or the
        waits are few; else the :data:`SPOT_CHECKS` stuck longest, topped up at random."""
        if self._rounds <= self._distrust_until or len(self._waits) <= SPOT_CHECKS:
            return list(self._waits)
        stuck_since = self._rounds - STUCK_ROUNDS
        stuck = [i for i, (_, since) in self._listed.items() if since <= stuck_since]
        picks = heapq.nsmallest(SPOT_CHECKS, stuck, key=lambda artwork_id: self._listed[artwork_id][1])
        if len(picks) < SPOT_CHECKS:
            chosen = set(picks)
            others = [artwork_id for artwork_id in self._waits if artwork_id not in chosen]
            picks += random.sample(others, min(SPOT_CHECKS - len(picks), len(others)))
        for artwork_id in picks:
            if artwork_id in self._listed:
                self._listed[artwork_id] = (self._listed[artwork_id][0], self._rounds)
        return picks

    def _note_listed(self, artworks: list[Artwork]) -> None:
        """Remember each listed status of a wait still registered, and the round it last moved.

        A wait may have left while the list was read: it is not tracked again, so :attr:`_listed` only
        ever holds registered waits.
        """
        for artwork in artworks:
            if artwork.status.is_terminal or artwork.id not in self._waits:
                continue
            status, since = self._listed.get(artwork.id, ("", self._rounds))
            moved = status != artwork.status.value
            self._listed[artwork.id] = (artwork.status.value, self._rounds if moved else since)

    def _check_against_reads(self, page: list[Artwork], ended: dict[str, Artwork]) -> None:
        """Distrust the list when it shows in flight an artwork read as ended (``ended``) just before it."""
        for artwork in page:
            read = ended.get(artwork.id)
            if read is None or not list_lags(read, artwork):
                continue
            self._distrust_until = self._rounds + DISTRUST_ROUNDS
            log = self._log.debug if self._lag_reported else self._log.warning
            self._lag_reported = True
            log(
                "tengr.ai status poller (%s): the artworks list shows artwork %s %s, but reading it by id "
                "said %s: the list lags behind; reading every wait by id for the next %d rounds",
                self.key.conn_id,
                artwork.id,
                artwork.status.value,
                read.status.value,
                DISTRUST_ROUNDS,
            )
            return

    async def _read_one_by_one(self, artwork_ids: list[str]) -> dict[str, Artwork]:
        """Read each id (:data:`FALLBACK_CONCURRENCY` at a time) and resolve its waits; the reads."""
        reads: dict[str, Artwork] = {}
        for start in range(0, len(artwork_ids), FALLBACK_CONCURRENCY):
            chunk = artwork_ids[start : start + FALLBACK_CONCURRENCY]
            self.calls["get"] += len(chunk)
            results = await asyncio.gather(
                *(self._hook.get_artwork(i) for i in chunk), return_exceptions=True
            )
            transient: BaseException | None = None
            for artwork_id, result in zip(chunk, results, strict=True):
                if isinstance(result, Artwork):
                    reads[artwork_id] = result
                    self._resolve(result)
                elif isinstance(result, TRANSIENT_ERRORS):
                    transient = result
                elif isinstance(result, Exception):
                    self._fail(artwork_id, result)
                elif isinstance(result, BaseException):
                    raise result
            if transient is not None:
                raise transient
        return reads

    async def _resolve_in_slices(self, artworks: list[Artwork]) -> None:
        for start in range(0, len(artworks), RESOLVE_SLICE):
            # Let the triggers resolved so far (by an earlier slice, or a spot check) run first.
            await asyncio.sleep(0)
            for artwork in artworks[start : start + RESOLVE_SLICE]:
                self._resolve(artwork)

    def _resolve(self, artwork: Artwork) -> None:
        for reg in self._waits.get(artwork.id, []):
            if reg.wait.ends_with(artwork) and not reg.done.done():
                reg.done.set_result(artwork)
        if artwork.status.is_terminal:
            self._waits.pop(artwork.id, None)
            self._listed.pop(artwork.id, None)

    def _fail(self, artwork_id: str, exc: Exception) -> None:
        self._listed.pop(artwork_id, None)
        for reg in self._waits.pop(artwork_id, []):
            if not reg.done.done():
                reg.done.set_exception(exc)


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, StatusPoller]] = (
    weakref.WeakKeyDictionary()
)


def poller_for(key: PollerKey, hook_factory: Callable[[], PollerHook], logger: Any) -> StatusPoller:
    """The running loop's poller for ``key``, made (with a hook from ``hook_factory``) if none runs."""
    pollers = _POLLERS.setdefault(asyncio.get_running_loop(), {})
    poller = pollers.get(key)
    if poller is None:
        poller = pollers[key] = StatusPoller(key, hook_factory(), logger)
    return poller


def _forget(poller: StatusPoller) -> None:
    for pollers in _POLLERS.values():
        if pollers.get(poller.key) is poller:
            del pollers[poller.key]
