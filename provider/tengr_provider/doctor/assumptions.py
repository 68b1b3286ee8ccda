"""What the provider assumes about tengr.ai where the public docs are silent or were never tried live.

The provider was written from stored copies of the docs. Each assumption below is stated once, here:
what is assumed, which code relies on it, how ``tengr-doctor`` checks it against a live API, whether
that check spends credits, and what to set when it does not hold. The doctor reports one row per entry
of :data:`ASSUMPTIONS`, and the table in ``docs/api-versions.md`` is :func:`markdown_table` (a unit test
compares the two; ``python scripts/assumptions_table.py`` rewrites the page).
"""

from __future__ import annotations

from dataclasses import dataclass

from tengr_provider.api_paths import CREATE_CALLS, PATHS
from tengr_provider.hooks._settings import DEFAULT_RATE_LIMIT_TIMEOUT
from tengr_provider.models import ARTWORK_RETENTION, LIST_LIMIT_MAX
from tengr_provider.waiting.policy import DEFAULT_WAIT_TIMEOUT

#: How long the doctor waits for the artworks it created before calling them slow (``--max-wait``).
DEFAULT_MAX_WAIT_SECONDS = 600.0
#: How each create call answers, per API version: the HTTP status and whether the body is an artwork
#: or the finished image (V1 style-dna). The docs' pages state these; the provider reads any 2xx by
#: its body, so a different code alone does not break a pipeline.
CREATE_ANSWERS: dict[tuple[str, str], tuple[int, str]] = {
    ("v1", "photo-pilot"): (202, "artwork"),
    ("v1", "upscaling"): (201, "artwork"),
    ("v1", "style-dna"): (201, "image"),
    ("v2", "photo-pilot"): (202, "artwork"),
    ("v2", "upscaling"): (202, "artwork"),
    ("v2", "style-dna"): (202, "artwork"),
}


@dataclass(frozen=True)
class Assumption:
    """One thing the provider takes for granted about the API.

    :param id: short stable name, used in the doctor's output and ``--json``.
    :param assumed: what is assumed, in one sentence.
    :param relied_on_by: where the provider depends on it.
    :param check: how the doctor checks it.
    :param spends: whether the check creates artworks (only with ``--spend``).
    :param when_contradicted: what to set, or ``report this``, when the check says it does not hold.
    """

    id: str
    assumed: str
    relied_on_by: str
    check: str
    spends: bool
    when_contradicted: str


_POLLER_COSTS = (
    "nothing to set: the shared status poller reads by id what the list does not show, at one call per "
    "wait per interval; `coalesce=False` on `TengrArtworkTrigger` skips the list; report this"
)

ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        id="reachable",
        assumed="The connection's base URL answers, over verified TLS (plain http only on loopback).",
        relied_on_by="every call (the connection's `host`)",
        check="`GET /` and the artworks list: an answer, its scheme, the certificate check",
        spends=False,
        when_contradicted=(
            "set the connection's `host` to the API's base URL (default `https://api.tengr.ai`); behind a "
            "TLS-intercepting proxy, trust its CA (`REQUESTS_CA_BUNDLE`)"
        ),
    ),
    Assumption(
        id="key",
        assumed="The connection's API key may read the account's artworks (401: unknown key; 403: no "
        "artworks domain or scope).",
        relied_on_by="every call",
        check="the artworks list with `limit=1`",
        spends=False,
        when_contradicted="put a valid key in the connection's password field (401), or give the key "
        "the artworks domain and generator scope (403)",
    ),
    Assumption(
        id="auth-codes",
        assumed="A wrong key answers 401, so the provider's hint (check the API key) is the right one.",
        relied_on_by="`TengrAuthError` hints; 401/403 are never retried",
        check="the artworks list with a made-up key",
        spends=False,
        when_contradicted="report this (the 401/403 hints would point at the wrong cause)",
    ),
    Assumption(
        id="api-version",
        assumed="The connection's `api_version` answers at its paths (`tengr_provider.api_paths.PATHS`).",
        relied_on_by="every call's path",
        check="the artworks list under each version; `GET /`'s route list",
        spends=False,
        when_contradicted="set the connection's `api_version` extra to the version that answers",
    ),
    Assumption(
        id="create-routes",
        assumed=f"Each create call of the version has its route: {', '.join(CREATE_CALLS)} "
        f"(V2 photo-pilot at `{PATHS['v2']['photo-pilot']}`, never published).",
        relied_on_by="the operators' create calls",
        check="a POST without the required fields, which the API refuses with 400 before any work "
        "(creates nothing); 404 means no route",
        spends=False,
        when_contradicted="the connection's `api_paths` extra, e.g. "
        f'`{{"photo-pilot": "{PATHS["v1"]["photo-pilot"]}"}}`: the doctor names the path that answers',
    ),
    Assumption(
        id="list-paging",
        assumed=f"The artworks list honours `offset` and `limit` up to {LIST_LIMIT_MAX}; a shorter page "
        "ends the list.",
        relied_on_by=f"the shared status poller's pages of {LIST_LIMIT_MAX} (`triggers/_poller.py`)",
        check=f"`limit={LIST_LIMIT_MAX}`; the page after a short one; `offset=1` against `limit=2`",
        spends=False,
        when_contradicted=_POLLER_COSTS,
    ),
    Assumption(
        id="list-order",
        assumed="The artworks list is newest first (by `createdAt`).",
        relied_on_by="the shared status poller's page budget (the waits' artworks are on the first pages)",
        check="`createdAt` down the first page; with `--spend`, the new artworks come first",
        spends=False,
        when_contradicted=_POLLER_COSTS,
    ),
    Assumption(
        id="list-fresh",
        assumed="The artworks list shows each artwork's status as an artwork read does (not an older, "
        "cached one).",
        relied_on_by="the shared status poller, which ends waits from the list",
        check="artworks in flight read by id, then listed: the list must be as far along",
        spends=False,
        when_contradicted="nothing to set: the poller's spot checks read by id when the list lags (a "
        "few intervals late per wait); `coalesce=False` on `TengrArtworkTrigger` skips the list; "
        "report this",
    ),
    Assumption(
        id="rate-limit",
        assumed=f"A rate-limited call answers 429, with `Retry-After` in seconds or as an HTTP date "
        f"(within `rate_limit_timeout`, {DEFAULT_RATE_LIMIT_TIMEOUT:g} s by default), or without it.",
        relied_on_by="the hooks' retries (`RetryWait` honours `Retry-After`)",
        check="a short burst of list reads until the first 429 (`--rate-probe`)",
        spends=False,
        when_contradicted="report this (an unreadable `Retry-After` falls back to the backoff: "
        "`backoff_initial`, `backoff_max`)",
    ),
    Assumption(
        id="retention",
        assumed=f"An artwork is deleted {ARTWORK_RETENTION.days} days after creation; an unknown or "
        "deleted id answers 404.",
        relied_on_by="`TengrNotFoundError`'s hint; a V2 style-dna image's `expiresAt`",
        check=f"a made-up id; the ages of the listed artworks (none past {ARTWORK_RETENTION.days} days "
        "still reads)",
        spends=False,
        when_contradicted="report this (`ARTWORK_RETENTION` in `tengr_provider.models`); copy results "
        "with `output_path` either way",
    ),
    Assumption(
        id="create-answers",
        assumed="Each create answers as documented: "
        + "; ".join(
            f"{version} {call} {code} ({body})" for (version, call), (code, body) in CREATE_ANSWERS.items()
        )
        + ".",
        relied_on_by="the operators, which wait or not by the answer",
        check="one artwork per create call (the cheapest settings)",
        spends=True,
        when_contradicted="nothing to set when only the code differs (any 2xx is read by its shape); "
        "report this",
    ),
    Assumption(
        id="style-dna-v2",
        assumed="V2 style-dna answers an artwork whose first result is the image.",
        relied_on_by="`StyleDnaImage.from_artwork`, the style-dna operator under V2",
        check="one V2 style-dna artwork, waited for, its first result downloaded",
        spends=True,
        when_contradicted="nothing to set when the answer is the V1 image (the hook reads either "
        "shape); report this",
    ),
    Assumption(
        id="low-guidance",
        assumed="`imageGuidance` 1 is LOW: with it, `width`/`height` decide the result's size.",
        relied_on_by="`ImageGuidance.LOW` and the size-field warning (`tengr_provider.models`)",
        check="one photo-pilot at 640x512 with `imageGuidance` 1; the result's size (needs Pillow)",
        spends=True,
        when_contradicted="report this; until then expect the source image's size",
    ),
    Assumption(
        id="processing-time",
        assumed=f"An artwork ends within minutes (the doctor waits `--max-wait`, "
        f"{DEFAULT_MAX_WAIT_SECONDS:g} s), well inside the operators' default `timeout` "
        f"({DEFAULT_WAIT_TIMEOUT} s).",
        relied_on_by="the operators' and the sensor's `timeout` and `poll_interval` defaults",
        check="the time each created artwork takes to a final status",
        spends=True,
        when_contradicted="raise the operators' `timeout` (and `poll_interval`) above the measured time",
    ),
)

#: The assumptions by id.
BY_ID: dict[str, Assumption] = {assumption.id: assumption for assumption in ASSUMPTIONS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The assumptions as the Markdown table of ``docs/api-versions.md``."""
    rows = [
        "| id | assumed | relied on by | how `tengr-doctor` checks it | credits | when it does not hold |",
        "|---|---|---|---|---|---|",
    ]
    rows += [
        f"| `{a.id}` | {_cell(a.assumed)} | {_cell(a.relied_on_by)} | {_cell(a.check)} | "
        f"{'spends (`--spend`)' if a.spends else 'none'} | {_cell(a.when_contradicted)} |"
        for a in ASSUMPTIONS
    ]
    return "\n".join(rows)
