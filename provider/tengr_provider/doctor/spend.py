"""The checks that spend credits (``--spend N``): create the cheapest artworks, watch them, measure them.

At most N artworks are created, in the order of :data:`~tengr_provider.api_paths.CREATE_CALLS`,
each with the cheapest settings a check allows, from the one public image the user names. They are
created once (``retry_creates`` off: an ambiguous failure is reported, never retried into a second
artwork) and then read by id until they end, each round also comparing the list with the reads.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tengr_provider.api_paths import CREATE_CALLS
from tengr_provider.doctor.assumptions import CREATE_ANSWERS
from tengr_provider.doctor.context import Context
from tengr_provider.doctor.read_only import compare_list_with_reads, record_freshness
from tengr_provider.exceptions import TRANSIENT_ERRORS, TengrApiError
from tengr_provider.models import (
    ApiRequest,
    Artwork,
    ImageGuidance,
    PhotoPilotRequest,
    StyleDnaImage,
    StyleDnaRequest,
    UpscalingRequest,
)
from tengr_provider.storage import ResultCopier

#: The size the LOW check asks for: small (cheap), and a shape a source image is unlikely to have.
LOW_CHECK_SIZE = (640, 512)
#: The style-dna image's size: the smallest the API allows.
STYLE_DNA_CHECK_SIZE = (512, 512)
#: The prompt and description the doctor's artworks carry, so they are easy to find in the account.
DOCTOR_PROMPT = "tengr-doctor check"


def cheapest_requests(image_url: str) -> dict[str, ApiRequest]:
    """The request of each create call, with the lowest settings that still check something."""
    return {
        "photo-pilot": PhotoPilotRequest(
            image_url=image_url,
            image_guidance=ImageGuidance.LOW,
            modification=1,
            creativity=1,
            effort=1,
            width=LOW_CHECK_SIZE[0],
            height=LOW_CHECK_SIZE[1],
            prompt=DOCTOR_PROMPT,
        ),
        "upscaling": UpscalingRequest(image_url=image_url, scale_factor=2),
        "style-dna": StyleDnaRequest(
            visual_prompt="plain",
            anchor_image_url=image_url,
            description=DOCTOR_PROMPT,
            width=STYLE_DNA_CHECK_SIZE[0],
            height=STYLE_DNA_CHECK_SIZE[1],
        ),
    }


def planned_calls(ctx: Context) -> list[str]:
    """The create calls ``--spend`` pays for, cheapest check first."""
    return list(CREATE_CALLS[: ctx.options.spend])


def plan(ctx: Context, image_url: str) -> list[str]:
    """One line per artwork the run would create: call, path and body."""
    requests_ = cheapest_requests(image_url)
    return [
        f"{call}: POST {ctx.settings.path(call)} {requests_[call].to_api()}" for call in planned_calls(ctx)
    ]


@dataclass
class Created:
    """One create the doctor paid for, and what became of it.

    :param started: the run's clock when the call was sent.
    :param status: the HTTP status of its answer.
    :param artwork: the answer, when it is an artwork; ``image`` when it is the finished image.
    :param final: the artwork in its final status, once read.
    :param seconds: from sending the create to the first read that showed it final.
    """

    call: str
    started: float
    status: int | None = None
    artwork: Artwork | None = None
    image: StyleDnaImage | None = None
    error: str | None = None
    final: Artwork | None = None
    seconds: float | None = None


def create_all(ctx: Context, image_url: str) -> list[Created]:
    """Create one artwork per planned call; a failure is kept with its call, never retried."""
    hook, bodies = ctx.hook(), cheapest_requests(image_url)
    made = []
    for call in planned_calls(ctx):
        created = Created(call, ctx.clock())
        try:
            if call == "photo-pilot":
                created.artwork = hook.create_photo_pilot(bodies[call])  # type: ignore[arg-type]
            elif call == "upscaling":
                created.artwork = hook.create_upscaling(bodies[call])  # type: ignore[arg-type]
            else:
                answer = hook.submit_style_dna(bodies[call])  # type: ignore[arg-type]
                created.image, created.artwork = (
                    (answer, None) if isinstance(answer, StyleDnaImage) else (None, answer)
                )
        except TengrApiError as exc:
            created.error, created.status = ctx.redact(str(exc)), exc.status_code
        else:
            path = ctx.settings.path(call)
            posts = [a for a in ctx.recorder.answers if a.method == "POST" and a.path == path]
            created.status = posts[-1].status if posts else None
            if created.artwork is not None and created.artwork.status.is_terminal:
                created.final, created.seconds = created.artwork, ctx.clock() - created.started
        made.append(created)
        ctx.say(f"created {call}: {created.error or _describe(created)}")
    return made


def _describe(created: Created) -> str:
    if created.image is not None:
        return f"{created.status} with the image"
    artwork = created.artwork
    return (
        f"{created.status}, artwork {artwork.id} {artwork.status.value}" if artwork else f"{created.status}"
    )


def check_create_answers(ctx: Context, made: list[Created]) -> None:
    """``create-answers``: each answer's status, and its body (artwork or image), as documented."""
    version = ctx.settings.api_version
    seen, wrong = [], []
    for created in made:
        if created.error is not None:
            seen.append(f"{created.call}: {created.error}")
            continue
        status, body = CREATE_ANSWERS[(version, created.call)]
        shape = "image" if created.image is not None else "artwork"
        seen.append(f"{created.call} → {_describe(created)}")
        if created.status != status:
            wrong.append(f"{created.call} answered {created.status}, not {status}")
        # V2 style-dna's body is the style-dna-v2 assumption's business, not this one's.
        if shape != body and (version, created.call) != ("v2", "style-dna"):
            wrong.append(f"{created.call} answered the {shape}, not the {body}")
    if all(created.error is not None for created in made):
        ctx.findings.not_checked("create-answers", "; ".join(seen) or "nothing was created")
    elif wrong:
        ctx.findings.contradicted("create-answers", "; ".join([*wrong, *seen]))
    else:
        ctx.findings.holds("create-answers", "; ".join(seen))


def wait_for_all(ctx: Context, made: list[Created]) -> None:
    """Read the created artworks until they end or ``--max-wait`` passes; ``processing-time``.

    Every round reads them by id, then lists: the ``list-fresh`` comparison on artworks certainly in
    flight.
    """
    pending = {c.artwork.id: c for c in made if c.artwork is not None and c.final is None}
    deadline = ctx.clock() + ctx.options.max_wait
    in_flight, lagging = 0, []
    while pending and ctx.clock() < deadline:
        ctx.sleep(min(ctx.options.poll, max(0.0, deadline - ctx.clock())))
        try:
            comparison = compare_list_with_reads(ctx, list(pending))
        except TRANSIENT_ERRORS as exc:
            ctx.say(ctx.redact(f"reading the created artworks failed for now: {exc}"))
            continue
        in_flight += comparison.in_flight
        lagging += comparison.lagging
        for artwork_id, artwork in comparison.reads.items():
            if artwork.status.is_terminal:
                created = pending.pop(artwork_id)
                created.final, created.seconds = artwork, ctx.clock() - created.started
    if in_flight or lagging:
        record_freshness(ctx, in_flight, lagging, f"the created artworks, every {ctx.options.poll:g} s")
    timed = [c for c in made if c.artwork is not None]
    if not timed:
        ctx.findings.not_checked("processing-time", "no artwork was created to time")
    elif pending:
        late = "; ".join(
            f"{c.call} {artwork_id} still {c.artwork.status.value if c.artwork else '?'} after "
            f"{ctx.options.max_wait:g} s"
            for artwork_id, c in pending.items()
        )
        ctx.findings.contradicted("processing-time", late)
    else:
        ctx.findings.holds(
            "processing-time",
            "; ".join(
                f"{c.call} {c.final.status.value if c.final else '?'} after {c.seconds or 0:.1f} s"
                for c in timed
            )
            + f" (read every {ctx.options.poll:g} s)",
        )


def _download(url: str, folder: Path) -> Path:
    """Copy a result image with the provider's own downloader; the local file."""
    copier = ResultCopier(folder.as_uri())
    try:
        return Path(unquote(urlsplit(copier.copy(url, "result")).path))
    finally:
        copier.close()


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height of the image at ``path``, or ``None`` without Pillow to read it."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    with Image.open(path) as image:
        width, height = image.size
    return int(width), int(height)


def check_low_guidance(ctx: Context, made: list[Created]) -> None:
    """``low-guidance``: the photo-pilot result of ``imageGuidance`` 1 has the requested size."""
    photo_pilot = next((c for c in made if c.call == "photo-pilot"), None)
    if photo_pilot is None or photo_pilot.final is None or not photo_pilot.final.status.is_success:
        why = photo_pilot.error if photo_pilot and photo_pilot.error else "no photo-pilot artwork succeeded"
        ctx.findings.not_checked("low-guidance", why)
        return
    if not photo_pilot.final.results:
        ctx.findings.not_checked("low-guidance", f"artwork {photo_pilot.final.id} succeeded without results")
        return
    with tempfile.TemporaryDirectory(prefix="tengr-doctor-") as folder:
        size = image_size(_download(photo_pilot.final.results[0], Path(folder)))
    if size is None:
        ctx.findings.not_checked(
            "low-guidance", "reading the result's size needs Pillow (pip install pillow)"
        )
        return
    asked = f"imageGuidance 1 at {LOW_CHECK_SIZE[0]}x{LOW_CHECK_SIZE[1]}"
    got = f"{size[0]}x{size[1]}"
    if size == LOW_CHECK_SIZE:
        ctx.findings.holds(
            "low-guidance", f"photo-pilot {photo_pilot.final.id} with {asked} → a {got} result"
        )
    else:
        ctx.findings.contradicted(
            "low-guidance",
            f"photo-pilot {photo_pilot.final.id} with {asked} → a {got} result (the source image's size?)",
        )


def check_style_dna_v2(ctx: Context, made: list[Created]) -> None:
    """``style-dna-v2``: under V2, an artwork whose first result is the image."""
    style_dna = next((c for c in made if c.call == "style-dna"), None)
    if ctx.settings.api_version != "v2":
        ctx.findings.not_checked("style-dna-v2", "about API V2; this connection uses v1")
        return
    if style_dna is None or style_dna.error is not None:
        ctx.findings.not_checked("style-dna-v2", (style_dna and style_dna.error) or "needs --spend 3")
        return
    call = f"POST {ctx.settings.path('style-dna')} → {style_dna.status}"
    if style_dna.image is not None:
        ctx.findings.contradicted(
            "style-dna-v2", f"{call} with the image (imageUrl, expiresAt), not an artwork"
        )
        return
    final = style_dna.final
    if final is None or not final.status.is_success:
        ctx.findings.not_checked("style-dna-v2", f"{call}; the artwork did not succeed in time")
        return
    try:
        image = StyleDnaImage.from_artwork(final)
    except ValueError as exc:
        ctx.findings.contradicted("style-dna-v2", f"{call}; {exc}")
        return
    with tempfile.TemporaryDirectory(prefix="tengr-doctor-") as folder:
        stored = _download(image.image_url, Path(folder))
        size = image_size(stored)
    shown = f"{size[0]}x{size[1]} " if size else ""
    ctx.findings.holds(
        "style-dna-v2",
        f"{call}, artwork {final.id} succeeded; its first result is a {shown}{stored.suffix[1:]} image",
    )
