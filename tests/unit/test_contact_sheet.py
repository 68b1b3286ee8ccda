"""The demo's contact sheet lists every stored image once, in its chain, with relative links."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image
from scripts.contact_sheet import chain_rows, write_contact_sheet

API = "https://api.example.com/r"


class Images(HTMLParser):
    """The ``src`` of every ``<img>``, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "img":
            self.rows[-1].append(dict(attrs)["src"] or "")


def stored(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"\x89PNG fake")
    return folder / name


def a_run(tmp_path: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Two products restyled; the first upscaled twice, the second not at all."""
    artworks = {
        "r1": {
            "id": "r1",
            "results": [f"{API}/r1_0.png"],
            "parameters": {"imageUrl": "https://cdn/shoe.png"},
        },
        "r2": {"id": "r2", "results": [f"{API}/r2_0.png"], "parameters": {"imageUrl": "https://cdn/mug.jpg"}},
        "u1": {"id": "u1", "results": [f"{API}/u1_0.png"], "parameters": {"imageUrl": f"{API}/r1_0.png"}},
        "u2": {"id": "u2", "results": [f"{API}/u2_0.png"], "parameters": {"imageUrl": f"{API}/r1_0.png"}},
    }
    for aid in ("r1", "r2"):
        stored(tmp_path / "restyled", f"{aid}_0.png")
    for aid in ("u1", "u2"):
        stored(tmp_path / "print", f"{aid}_0.png")
    return tmp_path, artworks


def test_the_sheet_shows_every_stored_image_in_its_chain(tmp_path: Path) -> None:
    run_output, artworks = a_run(tmp_path)
    fetched: list[str] = []

    def fetch(url: str, target: Path) -> None:
        fetched.append(url)
        target.write_bytes(b"source")

    rows = chain_rows(run_output, artworks.__getitem__, fetch)
    page = write_contact_sheet(run_output, rows, "demo")
    assert page == run_output / "index.html"
    parser = Images()
    parser.feed(page.read_text())
    body = [row for row in parser.rows if row]
    assert body == [
        ["source/r1.png", "restyled/r1_0.png", "print/u1_0.png", "print/u2_0.png"],
        ["source/r2.jpg", "restyled/r2_0.png"],
    ]
    assert sorted(fetched) == ["https://cdn/mug.jpg", "https://cdn/shoe.png"]
    files = [p for p in run_output.rglob("*") if p.is_file() and p != page]
    images = {p.relative_to(run_output).as_posix() for p in files}
    assert {src for row in body for src in row} == images, "every stored image, and each link resolves"
    for aid in artworks:
        assert f"<figcaption>{aid}</figcaption>" in page.read_text()


def test_each_image_shows_its_pixel_size(tmp_path: Path) -> None:
    folder = tmp_path / "restyled"
    folder.mkdir()
    Image.new("RGB", (64, 48)).save(folder / "r1_0.png")
    artworks = {"r1": {"id": "r1", "results": [f"{API}/r1_0.png"], "parameters": {}}}

    page = write_contact_sheet(tmp_path, chain_rows(tmp_path, artworks.__getitem__, fetch_nothing), "x")

    assert "<figcaption>r1<br>64x48</figcaption>" in page.read_text()


def fetch_nothing(url: str, target: Path) -> None:
    raise AssertionError(f"nothing to fetch, asked for {url}")


def test_an_empty_run_still_writes_a_page(tmp_path: Path) -> None:
    page = write_contact_sheet(tmp_path, chain_rows(tmp_path, {}.__getitem__, lambda url, target: None), "x")
    assert "<table>" in page.read_text()
