"""The demo's contact sheet: one ``index.html`` showing source → restyled → upscaled, with artwork ids
and each image's pixel size (an upscale looks like its restyle in a thumbnail: its size says it grew).

The pipeline stores files as ``<artwork id>_<n>.<ext>`` under ``restyled/`` and ``print/``. Each
artwork's ``parameters`` name the image it was made from, which links an upscaled image to the
restyled one and that to its source photo. The source photos are copied next to the results (the
emulator's URLs die with it), and every link in the page is relative, so the folder can be moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tengr_provider.contact_sheet import Figure, render_page

#: Reads one artwork's JSON (as the API names it: ``id``, ``results``, ``parameters``) by id.
GetArtwork = Callable[[str], dict[str, Any]]
#: Copies the image at a URL to a local file.
Fetch = Callable[[str, Path], None]


@dataclass(frozen=True)
class Picture:
    """One image in the sheet: its file and, when an artwork made it, that artwork's id."""

    path: Path
    artwork_id: str | None = None


@dataclass(frozen=True)
class Row:
    """One product: its source photo, the restyled image, and the upscaled print(s) made from it."""

    source: Picture | None
    restyled: Picture
    upscaled: tuple[Picture, ...]


def artwork_id_of(path: Path) -> str:
    """``<artwork id>`` of a stored ``<artwork id>_<n>.<ext>``."""
    return path.stem.rpartition("_")[0] or path.stem


def chain_rows(run_output: Path, get_artwork: GetArtwork, fetch: Fetch) -> list[Row]:
    """The rows of a run's output folder, copying each source photo to ``source/`` on the way.

    :param run_output: the run's folder, holding ``restyled/`` and ``print/``.
    :param get_artwork: reads an artwork by id (e.g. ``TengrHook.get_artwork`` then ``to_api``).
    :param fetch: downloads a source photo.
    """
    restyled = _files(run_output / "restyled")
    printed = _files(run_output / "print")
    artworks = {aid: get_artwork(aid) for aid in {artwork_id_of(p) for p in [*restyled, *printed]}}
    # An upscaling's parameters name the restyled result URL it enlarged.
    made_from: dict[str, list[Path]] = {}
    for path in printed:
        made_from.setdefault(_source_url(artworks[artwork_id_of(path)]) or "", []).append(path)
    rows = []
    for path in restyled:
        artwork = artworks[artwork_id_of(path)]
        index = int(path.stem.rpartition("_")[2] or 0)
        results = list(artwork.get("results") or [])
        result_url = results[index] if index < len(results) else ""
        upscaled = tuple(Picture(p, artwork_id_of(p)) for p in made_from.get(result_url, []))
        rows.append(Row(_copy_source(run_output, artwork, fetch), Picture(path, artwork["id"]), upscaled))
    return rows


def render(run_output: Path, rows: Iterable[Row], title: str) -> str:
    """The page: one table row per product, images linked relative to ``run_output``."""
    table = (
        [
            _figures(run_output, [row.source] if row.source else []),
            _figures(run_output, [row.restyled]),
            _figures(run_output, row.upscaled),
        ]
        for row in rows
    )
    return render_page(title, ("source", "restyled", "upscaled"), table)


def write_contact_sheet(run_output: Path, rows: Iterable[Row], title: str) -> Path:
    """Write ``run_output/index.html`` and return its path."""
    page = run_output / "index.html"
    page.write_text(render(run_output, rows, title), encoding="utf-8")
    return page


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def _source_url(artwork: dict[str, Any]) -> str | None:
    url = (artwork.get("parameters") or {}).get("imageUrl")
    return url if isinstance(url, str) else None


def _copy_source(run_output: Path, artwork: dict[str, Any], fetch: Fetch) -> Picture | None:
    url = _source_url(artwork)
    if url is None:
        return None
    suffix = PurePosixPath(urlsplit(url).path).suffix or ".png"
    target = run_output / "source" / f"{artwork['id']}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    fetch(url, target)
    return Picture(target)


def pixel_size(path: Path) -> str:
    """``1024x768`` for an image file Pillow can read, else ``""``."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            return f"{image.width}x{image.height}"
    except Exception:  # not an image (or no Pillow): the sheet shows no size rather than fail
        return ""


def _figures(run_output: Path, pictures: Iterable[Picture]) -> list[Figure]:
    return [
        Figure(
            picture.path.relative_to(run_output).as_posix(),
            picture.artwork_id or "source photo",
            pixel_size(picture.path),
        )
        for picture in pictures
    ]
