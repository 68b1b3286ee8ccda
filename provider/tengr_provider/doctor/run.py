"""One doctor run: the checks in order, the spending only after consent, one finding per assumption."""

from __future__ import annotations

from collections.abc import Callable

from tengr_provider.doctor import read_only, spend
from tengr_provider.doctor.assumptions import ASSUMPTIONS
from tengr_provider.doctor.context import Context
from tengr_provider.doctor.findings import Finding, Verdict
from tengr_provider.exceptions import TengrApiError

#: Asked before spending, with one line per artwork to create; True to go ahead.
Confirm = Callable[[list[str]], bool]


def _spend(ctx: Context, confirm: Confirm) -> list[spend.Created]:
    """Create the artworks ``--spend`` allows, if the routes are there and the user agrees."""
    image_url = ctx.options.image_url
    if not ctx.options.spend or image_url is None:
        return []
    if ctx.findings.verdict("create-routes") is Verdict.CONTRADICTED:
        _not_spent(ctx, "nothing created: fix create-routes first (a create would answer 404)")
        return []
    if not confirm(spend.plan(ctx, image_url)):
        _not_spent(ctx, "nothing created: spending was declined")
        return []
    made = spend.create_all(ctx, image_url)
    spend.check_create_answers(ctx, made)
    return made


def _not_spent(ctx: Context, reason: str) -> None:
    for assumption in ASSUMPTIONS:
        if assumption.spends:
            ctx.findings.not_checked(assumption.id, reason)


def run(ctx: Context, confirm: Confirm) -> list[Finding]:
    """Check every assumption the connection allows; one finding per assumption, in declared order.

    :param confirm: shown what ``--spend`` would create; nothing is created unless it returns True.
    """
    unreached = "not reached"
    try:
        root = read_only.check_reachable(ctx)
        if ctx.findings.verdict("reachable") is Verdict.CONTRADICTED and root is None:
            return ctx.findings.rows("the API did not answer")
        if not read_only.check_key_and_version(ctx, root):
            return ctx.findings.rows("needs a key and an API version that answer")
        read_only.check_auth_codes(ctx)
        read_only.check_create_routes(ctx, root)
        made = _spend(ctx, confirm)
        created = [c.artwork.id for c in made if c.artwork is not None]
        page = read_only.check_list_paging(ctx)
        read_only.check_list_order(ctx, page, created)
        read_only.check_list_fresh(ctx, page, created)
        read_only.check_retention(ctx)
        if made:
            spend.wait_for_all(ctx, made)
            spend.check_low_guidance(ctx, made)
            spend.check_style_dna_v2(ctx, made)
    except TengrApiError as exc:
        unreached = ctx.redact(f"not reached: the run stopped at {exc}")
        ctx.say(unreached)
    try:
        # Last, and after a stop too: a 429 that stopped the run is this check's evidence.
        read_only.check_rate_limit(ctx, probe=unreached == "not reached")
    finally:
        ctx.close()
    if not ctx.options.spend:
        _not_spent(ctx, "creates artworks: run with --spend N --image-url URL")
    return ctx.findings.rows(unreached)
