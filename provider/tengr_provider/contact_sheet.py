"""A contact sheet: one HTML page of images in a table, each with a caption, links relative to the page.

The demo's sheet (``scripts/contact_sheet.py``: source → restyled → upscaled) and a batch's sheet
(beside its manifest) are both rendered here. The page needs nothing but the images next to it: no
script, no stylesheet to fetch, so it opens from a local folder, a bucket's website or a file share.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One image of the sheet.

    :param href: where the image is, relative to the page (or absolute).
    :param caption: what the sheet says under it (an artwork id).
    :param detail: a second line under the caption (its pixel size), or ``""``.
    """

    href: str
    caption: str
    detail: str = ""


#: A cell holds images, or a line of text.
Cell = Sequence[Figure] | str


def render_page(title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The page: a title, then one table row per entry of ``rows``."""
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "\n".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
td {{ vertical-align: top; padding: 0.5rem; }}
img {{ max-width: 320px; max-height: 320px; display: block; }}
figcaption {{ font: 12px monospace; color: #555; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<table>
<tr>{head}</tr>
{body}
</table>
</body>
</html>
"""


def _cell(cell: Cell) -> str:
    if isinstance(cell, str):
        return f"<td>{html.escape(cell)}</td>"
    figures = []
    for figure in cell:
        href = html.escape(figure.href, quote=True)
        caption = html.escape(figure.caption)
        shown = f"{caption}<br>{html.escape(figure.detail)}" if figure.detail else caption
        figures.append(
            f'<figure><a href="{href}"><img src="{href}" alt="{caption}"></a>'
            f"<figcaption>{shown}</figcaption></figure>"
        )
    return f"<td>{''.join(figures) or '—'}</td>"
