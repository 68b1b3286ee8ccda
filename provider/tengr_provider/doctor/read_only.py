"""The checks that create nothing: reachability, the key, the version, the routes, the list, retention.

Each function records verdicts in the run's :class:`~tengr_provider.doctor.findings.Findings`; the
evidence quotes the calls and answers (never the key). The order matters only in that later checks
need the earlier ones to pass: without an answer or a working key there is nothing else to ask.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from tengr_provider._http import parse_retry_after
from tengr_provider.api_paths import API_VERSIONS, CREATE_CALLS, PATHS
from tengr_provider.doctor.context import Context
from tengr_provider.doctor.probe import Answer
from tengr_provider.exceptions import TengrApiError, TengrBadRequestError, TengrNotFoundError
from tengr_provider.hooks._settings import DEFAULT_RATE_LIMIT_TIMEOUT
from tengr_provider.hooks.tengr import routes_of, versions_in_routes
from tengr_provider.models import ARTWORK_RETENTION, LIST_LIMIT_MAX, Artwork, list_lags

#: List pages the doctor reads at most when looking for the oldest artworks (10,000 artworks).
MAX_LIST_PAGES = 20
#: Page sizes tried, largest first, when the list refuses the documented maximum.
SMALLER_LIMITS = (250, 100, 50, 20, 10)
#: In-flight artworks compared between a read by id and the list, at most, per comparison.
FRESHNESS_SAMPLE = 20
_PATH = re.compile(r"/[A-Za-z0-9_\-./{}:]+")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_reachable(ctx: Context) -> Answer | None:
    """``reachable``: any HTTP answer at the base URL, and how it travelled. The root's answer, if any."""
    settings = ctx.settings
    try:
        answer = ctx.hook().send("GET", settings.path("root"))
    except requests.RequestException as exc:
        kind = "TLS failed" if isinstance(exc, requests.exceptions.SSLError) else "no answer"
        ctx.findings.contradicted(
            "reachable", ctx.redact(f"GET {settings.base_url}/ → {kind}: {type(exc).__name__}: {exc}")
        )
        return None
    parts = urlsplit(settings.base_url)
    if parts.scheme == "https":
        transport = "https, certificate verified"
    elif _is_loopback(parts.hostname or ""):
        transport = "plain http on loopback (no TLS to check)"
    else:
        ctx.findings.contradicted(
            "reachable",
            f"{answer.describe()}, but over plain http to {parts.hostname}: the API key travels unencrypted",
            f"use https:// in the connection's host ({settings.base_url})",
        )
        return answer
    ctx.findings.holds("reachable", f"{answer.describe()}; {transport}")
    return answer


def _unsettled(status: int | None) -> bool:
    """An answer that says nothing about the assumption: none at all, a rate limit, a server error."""
    return status is None or status == 429 or status >= 500


def _list_status(ctx: Context, version: str) -> int | None:
    """The status the artworks list answers under ``version`` (``None``: no answer)."""
    try:
        ctx.hook(version).list_artworks(0, 1)
    except TengrApiError as exc:
        return exc.status_code
    return 200


def check_key_and_version(ctx: Context, root: Answer | None) -> bool:
    """``key`` and ``api-version``: the list under each version. False when nothing else can be checked.

    When the connection's version does not answer and another does, the run goes on with that one.
    """
    configured = ctx.settings.api_version
    statuses = {version: _list_status(ctx, version) for version in API_VERSIONS}
    offered = versions_in_routes(root.json()) if root is not None and root.status == 200 else []
    listed = f"; GET / lists routes of {', '.join(offered)}" if offered else "; GET / lists no routes"
    seen = ", ".join(f"{version}: {statuses[version] or 'no answer'}" for version in API_VERSIONS)
    list_calls = ", ".join(f"GET {PATHS[version]['artworks']}?limit=1" for version in API_VERSIONS)
    answering = [version for version in API_VERSIONS if statuses[version] == 200]
    mine = statuses[configured]
    if _unsettled(mine):
        reason = f"GET {ctx.settings.path('artworks')}?limit=1 → {mine or 'no answer'}, even after retries"
        ctx.findings.not_checked("key", reason)
        ctx.findings.not_checked("api-version", reason)
        return False
    if mine in (401, 403):
        advice = (
            "put a valid key in the connection's password field: tengr.ai does not know this one"
            if mine == 401
            else "give the key the artworks domain and at least generator scope (a tengr.ai admin does)"
        )
        ctx.findings.contradicted("key", f"GET {ctx.settings.path('artworks')}?limit=1 → {mine}", advice)
        return False
    if mine == 200:
        ctx.findings.holds("api-version", f"{seen} ({list_calls}){listed}")
    elif answering:
        ctx.version = answering[0]
        ctx.findings.contradicted(
            "api-version",
            f"{seen} ({list_calls}){listed}; the checks below use {ctx.version}",
            f"set the connection's api_version extra: {_compact({'api_version': ctx.version})}",
        )
    else:
        ctx.findings.contradicted(
            "api-version",
            f"no version's artworks list answers: {seen}{listed}",
            f"check the connection's host ({ctx.settings.base_url}): it should be the API's base URL, "
            "without a path",
        )
        ctx.findings.not_checked("key", "no version's artworks list answers")
        return False
    ctx.findings.holds("key", f"GET {ctx.settings.path('artworks')}?limit=1 → 200: the key reads artworks")
    return True


def check_auth_codes(ctx: Context) -> None:
    """``auth-codes``: the list with a made-up key must answer 401."""
    made_up = f"tengr-doctor-made-up-{uuid.uuid4().hex}"
    call = f"GET {ctx.settings.path('artworks')}?limit=1 with a made-up key"
    status: int | None = 200
    try:
        ctx.wrong_key_hook(made_up).list_artworks(0, 1)
    except TengrApiError as exc:
        status = exc.status_code
    if _unsettled(status):
        ctx.findings.not_checked("auth-codes", f"{call} → {status or 'no answer'}")
    elif status == 401:
        ctx.findings.holds("auth-codes", f"{call} → 401 (the hint 'check the API key' fits)")
    elif status == 200:
        ctx.findings.contradicted("auth-codes", f"{call} → 200: the API accepted a key it cannot know")
    else:
        ctx.findings.contradicted(
            "auth-codes", f"{call} → {status or 'no answer'}, not 401: the provider's 401/403 hints mislead"
        )


def _probe_route(ctx: Context, path: str) -> int:
    """What a POST without the required fields answers at ``path`` (400: the route exists)."""
    return ctx.hook().send("POST", path, {}).status


def _route_candidates(ctx: Context, call: str, root: Answer | None) -> list[str]:
    """Paths that may serve ``call`` when its table path does not: ``GET /``'s routes, the other version's."""
    assumed = ctx.settings.path(call)
    tail = assumed.rstrip("/").rsplit("/", 1)[-1]
    listed = [
        path
        for route in (routes_of(root.json()) if root is not None else [])
        if "GET" not in route.upper().split("/")[0]
        for path in _PATH.findall(route)
        if path.rstrip("/").rsplit("/", 1)[-1] == tail and path != assumed and "{" not in path
    ]
    version = f"/{ctx.settings.api_version}/"
    others = [PATHS[v][call] for v in API_VERSIONS if PATHS[v][call] != assumed]
    ordered = sorted(dict.fromkeys(listed), key=lambda path: not path.startswith(version))
    return list(dict.fromkeys([*ordered, *others]))


def _compact(value: object) -> str:
    """JSON without spaces: a setting to paste, which a wrapped report line does not split."""
    return json.dumps(value, separators=(",", ":"))


def check_create_routes(ctx: Context, root: Answer | None) -> None:
    """``create-routes``: each create path refuses an empty body with 400 (exists) rather than 404."""
    seen: list[str] = []
    moved: dict[str, str] = {}
    missing: list[str] = []
    for call in CREATE_CALLS:
        path = ctx.settings.path(call)
        status = _probe_route(ctx, path)
        seen.append(f"POST {path} {{}} → {status}")
        if status in (401, 403) or _unsettled(status):
            ctx.findings.not_checked("create-routes", f"POST {path} {{}} → {status}: no word on the route")
            return
        if 200 <= status < 300:
            ctx.findings.contradicted(
                "create-routes",
                f"POST {path} {{}} → {status}: the API accepted a body without its required fields",
                "report this (the doctor's empty-body probe may have created an artwork)",
            )
            return
        if status != 404:
            continue
        for candidate in _route_candidates(ctx, call, root):
            answer = _probe_route(ctx, candidate)
            seen.append(f"POST {candidate} {{}} → {answer}")
            if answer == 400:
                moved[call] = candidate
                break
        else:
            missing.append(call)
    evidence = "; ".join(seen)
    if missing:
        ctx.findings.contradicted(
            "create-routes",
            evidence,
            f"report this: no route answered for {', '.join(missing)}"
            + (f"; meanwhile set the api_paths extra to {_compact(moved)}" if moved else ""),
        )
    elif moved:
        ctx.findings.contradicted(
            "create-routes", evidence, f"set the connection's api_paths extra to {_compact(moved)}"
        )
    else:
        ctx.findings.holds("create-routes", f"{evidence} (every route exists; nothing was created)")


def list_pages(ctx: Context) -> list[Artwork]:
    """Every listed artwork, reading up to :data:`MAX_LIST_PAGES` pages of the run's page size."""
    hook, listed, offset, limit = ctx.hook(), [], 0, ctx.page_limit
    for _ in range(MAX_LIST_PAGES):
        page = hook.list_artworks(offset, limit)
        listed += page
        if len(page) < limit:
            break
        offset += limit
    return listed


def check_list_paging(ctx: Context) -> list[Artwork]:
    """``list-paging``: ``limit`` up to the maximum, a short page ends the list, ``offset`` shifts it.

    :return: the first page (what the other list checks look at), empty when the list cannot be read.
    """
    hook = ctx.hook()
    call = f"GET {ctx.settings.path('artworks')}"
    try:
        page = hook.list_artworks(0, LIST_LIMIT_MAX)
    except TengrBadRequestError as exc:
        ctx.page_limit = _accepted_limit(ctx)
        ctx.findings.contradicted(
            "list-paging",
            ctx.redact(f"{call}?limit={LIST_LIMIT_MAX} → {exc}; limit={ctx.page_limit} is accepted"),
        )
        return hook.list_artworks(0, ctx.page_limit)
    seen = [f"limit={LIST_LIMIT_MAX} → {len(page)} listed"]
    if len(page) > LIST_LIMIT_MAX:
        ctx.findings.contradicted("list-paging", f"{call}?limit={LIST_LIMIT_MAX} → {len(page)} listed")
        return page
    if len(page) < LIST_LIMIT_MAX:
        after = hook.list_artworks(len(page), 1)
        seen.append(f"offset={len(page)} → {len(after)}")
        if after:
            ctx.findings.contradicted(
                "list-paging",
                "; ".join(seen) + f": the page of {len(page)} was cut short, not the end of the list",
            )
            return page
    if len(page) >= 2:
        first_two, second = hook.list_artworks(0, 2), hook.list_artworks(1, 1)
        shifted = [artwork.id for artwork in first_two[1:2]] == [artwork.id for artwork in second]
        seen.append(f"offset=1&limit=1 {'is' if shifted else 'is not'} the second of limit=2")
        if not shifted:
            ctx.findings.contradicted("list-paging", "; ".join(seen))
            return page
    else:
        seen.append("offset not checked (fewer than 2 artworks)")
    ctx.findings.holds("list-paging", "; ".join(seen))
    return page


def _accepted_limit(ctx: Context) -> int:
    """The largest of a few page sizes the list accepts, for the checks that follow."""
    for limit in SMALLER_LIMITS:
        try:
            ctx.hook().list_artworks(0, limit)
        except TengrBadRequestError:
            continue
        return limit
    return 1


def check_list_order(ctx: Context, page: list[Artwork], created: list[str]) -> None:
    """``list-order``: ``createdAt`` never rises down the page; the artworks just created come first."""
    dated = [artwork.created_at for artwork in page if artwork.created_at is not None]
    if len(dated) < 2:
        ctx.findings.not_checked("list-order", f"{len(dated)} dated artwork(s) listed; needs 2 (--spend 2)")
        return
    pairs = list(itertools.pairwise(dated))
    rising = sum(later > earlier for earlier, later in pairs)
    if rising:
        kind = "oldest first" if rising == len(pairs) else "not in createdAt order"
        ctx.findings.contradicted(
            "list-order",
            f"{len(dated)} artworks listed {kind} ({_when(dated[0])} first, {_when(dated[-1])} last)",
        )
        return
    evidence = f"{len(dated)} artworks newest first ({_when(dated[0])} down to {_when(dated[-1])})"
    if created:
        top = [artwork.id for artwork in page[: len(created)]]
        if top != list(reversed(created)):
            ctx.findings.contradicted(
                "list-order", f"{evidence}, but the {len(created)} just created are not the first listed"
            )
            return
        evidence += f"; the {len(created)} just created come first"
    ctx.findings.holds("list-order", evidence)


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Comparison:
    """Artworks read by id, then listed.

    :param reads: what each read said, by id.
    :param in_flight: how many of them were in flight in the read or the list.
    :param lagging: one line per artwork the list showed less far along than the read before it.
    """

    reads: dict[str, Artwork] = field(default_factory=dict)
    in_flight: int = 0
    lagging: list[str] = field(default_factory=list)


def compare_list_with_reads(ctx: Context, artwork_ids: list[str]) -> Comparison:
    """Read each artwork by id, then list, and compare.

    Reading first and listing after is what makes the comparison fair: an artwork only moves forward,
    so a list read later must be at least as far along as any read before it.
    """
    comparison = Comparison()
    for artwork_id in artwork_ids[:FRESHNESS_SAMPLE]:
        try:
            comparison.reads[artwork_id] = ctx.hook().get_artwork(artwork_id)
        except TengrNotFoundError:
            continue
    listed = {artwork.id: artwork for artwork in ctx.hook().list_artworks(0, ctx.page_limit)}
    for artwork_id, read in comparison.reads.items():
        shown = listed.get(artwork_id)
        if shown is None:
            continue
        if not (read.status.is_terminal and shown.status.is_terminal):
            comparison.in_flight += 1
        if list_lags(read, shown):
            comparison.lagging.append(
                f"artwork {artwork_id}: read {read.status.value}, then the list said {shown.status.value}"
            )
    return comparison


def record_freshness(ctx: Context, in_flight: int, lagging: list[str], how: str) -> None:
    """The ``list-fresh`` verdict of one or more comparisons."""
    if lagging:
        more = f" (and {len(lagging) - 1} more)" if len(lagging) > 1 else ""
        ctx.findings.contradicted("list-fresh", f"{lagging[0]}{more}")
    elif in_flight:
        reads = "1 read of an artwork" if in_flight == 1 else f"{in_flight} reads of artworks"
        ctx.findings.holds("list-fresh", f"{reads} in flight ({how}), each then listed as far along")
    else:
        ctx.findings.not_checked(
            "list-fresh", "no listed artwork is in flight to compare (--spend 1 creates one)"
        )


def check_list_fresh(ctx: Context, page: list[Artwork], created: list[str]) -> None:
    """``list-fresh`` from what is in flight now: the page's unfinished artworks and the created ones."""
    in_flight = [artwork.id for artwork in page if not artwork.status.is_terminal]
    ids = list(dict.fromkeys([*created, *in_flight]))
    comparison = compare_list_with_reads(ctx, ids) if ids else Comparison()
    record_freshness(ctx, comparison.in_flight, comparison.lagging, "read by id, then listed")


def check_retention(ctx: Context) -> None:
    """``retention``: a made-up id answers 404; nothing listed is older than the retention."""
    made_up = str(uuid.uuid4())
    try:
        ctx.hook().get_artwork(made_up)
    except TengrNotFoundError:
        unknown = f"GET {ctx.settings.path('artwork', id='<made-up id>')} → 404"
    except TengrApiError as exc:
        ctx.findings.contradicted(
            "retention", ctx.redact(f"a made-up id answered {exc.status_code or 'no answer'}, not 404: {exc}")
        )
        return
    else:
        ctx.findings.contradicted("retention", f"a made-up id {made_up} answered 200")
        return
    listed = [artwork for artwork in list_pages(ctx) if artwork.created_at is not None]
    if not listed:
        ctx.findings.holds("retention", f"{unknown}; the account lists no dated artworks")
        return
    now = datetime.now(timezone.utc)
    oldest = min(listed, key=lambda artwork: artwork.created_at or now)
    age = now - (oldest.created_at or now)
    if age <= ARTWORK_RETENTION:
        ctx.findings.holds(
            "retention",
            f"{unknown}; nothing listed is older than {ARTWORK_RETENTION.days} days "
            f"(oldest of {len(listed)}: {_age(age.total_seconds())})",
        )
        return
    try:
        ctx.hook().get_artwork(oldest.id)
        reads = "reads 200"
    except TengrNotFoundError:
        reads = "reads 404 but is still listed"
    ctx.findings.contradicted(
        "retention",
        f"{unknown}; artwork {oldest.id}, created {_age(age.total_seconds())} ago, is listed and {reads}",
    )


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {rest // 60} min"
    return f"{rest // 60} min {rest % 60} s" if rest >= 60 else f"{rest} s"


def _retry_after_form(value: str) -> tuple[bool, str]:
    """Whether the hooks read ``value`` as meant, and what it is."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        if parse_retry_after(text) is not None:
            return True, f"Retry-After: {text} (an HTTP date)"
        return False, f"Retry-After: {text!r} is neither seconds nor an HTTP date"
    if not 0 <= seconds <= DEFAULT_RATE_LIMIT_TIMEOUT:
        return False, (
            f"Retry-After: {text} is outside 0..{DEFAULT_RATE_LIMIT_TIMEOUT:g} s (milliseconds?); a call "
            "gives up at once on a wait past its rate_limit_timeout and leaves it to the task's retry"
        )
    return True, f"Retry-After: {text} (seconds)"


def check_rate_limit(ctx: Context, *, probe: bool = True) -> None:
    """``rate-limit``: the first 429 of the run, or of a short burst of list reads, and its Retry-After.

    :param probe: send the burst when the run met no 429 yet (off once the run has stopped).
    """
    reads, took = 0, 0.0
    if probe and ctx.options.rate_probe > 0 and not ctx.recorder.with_status(429):
        burst, started = ctx.hook(retries=False), ctx.clock()
        for _ in range(ctx.options.rate_probe):
            reads += 1
            try:
                burst.list_artworks(0, 1)
            except TengrApiError:
                break  # a 429 ends the probe; so does any other failure
        took = ctx.clock() - started
    refusals = ctx.recorder.with_status(429)
    if not refusals:
        headers = sorted({name for answer in ctx.recorder.answers for name in answer.headers})
        ctx.findings.not_checked(
            "rate-limit",
            f"{reads} quick reads in {took:.2f} s drew no 429 (rate-limit headers seen: "
            f"{', '.join(headers) or 'none'}); --rate-probe N reads more",
        )
        return
    first = refusals[0]
    value = first.headers.get("retry-after")
    evidence = f"{first.method} {first.path} → 429" + (f" after {reads} quick reads" if reads else "")
    if value is None:
        ctx.findings.holds("rate-limit", f"{evidence}, without Retry-After (the hooks back off instead)")
        return
    readable, form = _retry_after_form(value)
    if readable:
        ctx.findings.holds("rate-limit", f"{evidence}; {form}")
    else:
        ctx.findings.contradicted("rate-limit", f"{evidence}; {form}")
