"""What each emulator image shows, so a person looking at the results can see what made them.

An image is described, not stored: a :class:`Picture` says its size and what it is drawn from (a
source picture, a tint, a caption), and :mod:`~tengr_provider.testing.images` draws it on the first
download. A restyle is its source tinted by a colour its prompt chooses, captioned with the prompt's
first words and its artwork id; an upscale is its source, larger; a style-dna image shows its
description; a sample shows its name. Everything derives from the request and the emulator's seed.
"""

from __future__ import annotations

import colorsys
import hashlib
import textwrap
from dataclasses import dataclass

from tengr_provider.testing.sizes import Size

#: An RGB colour.
Rgb = tuple[int, int, int]
#: Words of a prompt a caption shows.
CAPTION_WORDS = 5
#: Characters of an artwork id a caption shows (enough to find it in a list of ids).
SHORT_ID = 8
#: Lines a description takes at most on a style-dna image.
DESCRIPTION_LINES = 3
#: The colour of the strip a caption is written on (white text).
CAPTION_STRIP = (20, 20, 20)
#: How strongly a tint covers what is under it (0: not at all, 1: a flat colour).
TINT_SHARE = 0.35
#: Sources larger than this (an upscaled result, say) are not drawn again: an image made from one is
#: drawn as if its source were unknown, which keeps every drawing to a few megapixels.
LARGEST_DRAWN_SOURCE = 4_194_304


@dataclass(frozen=True)
class Picture:
    """What one image shows.

    :param size: its pixel size.
    :param key: what its colour bands derive from when it has no source.
    :param source: the picture it is made from (drawn at this size), when the emulator knows it.
    :param tint: a colour washed over the source or the bands.
    :param caption: lines written across its bottom (its top with ``caption_on_top``: a sample's name,
        which then stays readable in everything made from it).
    """

    size: Size
    key: str
    source: Picture | None = None
    tint: Rgb | None = None
    caption: tuple[str, ...] = ()
    caption_on_top: bool = False

    @property
    def plain(self) -> bool:
        """Only colour bands: nothing to draw that needs more than the standard library."""
        return self.source is None and self.tint is None and not self.caption

    @property
    def scale(self) -> int | None:
        """The factor when this is exactly its source, larger by a whole number (an upscale)."""
        source = self.source
        if source is None or self.tint is not None or self.caption or source.size.width == 0:
            return None
        factor = self.size.width // source.size.width
        return factor if self.size == Size(source.size.width * factor, source.size.height * factor) else None


@dataclass(frozen=True)
class Look:
    """How an artwork's results look, decided when it is created.

    :param source: the picture of the image it was made from, when the emulator knows it.
    :param tint: photo-pilot's colour, chosen by the prompt.
    :param caption: the lines above the artwork's id; none for an upscale, which is its source larger.
    """

    source: Picture | None = None
    tint: Rgb | None = None
    caption: tuple[str, ...] = ()

    def picture(self, size: Size, key: str, artwork_id: str) -> Picture:
        """The picture of one result of artwork ``artwork_id``."""
        caption = (*self.caption, f"artwork {artwork_id[:SHORT_ID]}") if self.caption else ()
        return Picture(size, key, self.source, self.tint, caption)


#: The look of what the emulator knows nothing about: colour bands.
PLAIN = Look()


def drawable(source: Picture | None) -> Picture | None:
    """``source``, unless it is too large to draw again (see :data:`LARGEST_DRAWN_SOURCE`)."""
    return source if source is not None and source.size.area <= LARGEST_DRAWN_SOURCE else None


def tint_for(prompt: str, seed: int) -> Rgb:
    """A strong colour chosen by ``prompt`` and ``seed``: the same request is tinted the same way."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    red, green, blue = colorsys.hsv_to_rgb(digest[0] / 255, 0.85, 0.95)
    return round(red * 255), round(green * 255), round(blue * 255)


def first_words(text: str | None, words: int = CAPTION_WORDS) -> str:
    """The first ``words`` words of ``text``, with an ellipsis when there were more."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def restyle_look(source: Picture | None, prompt: str | None, seed: int) -> Look:
    """photo-pilot: its source tinted by the prompt's colour, captioned with the prompt's first words."""
    return Look(drawable(source), tint_for(prompt or "", seed), (first_words(prompt) or "(no prompt)",))


def upscale_look(source: Picture | None) -> Look:
    """upscaling: its source, larger, and nothing else."""
    return Look(drawable(source))


def described_look(description: str, kind: str) -> Look:
    """style-dna: its description, a few lines of it, under the kind of image."""
    lines = textwrap.wrap(description, 32)[:DESCRIPTION_LINES]
    return Look(caption=(kind, *lines))


def sample_picture(name: str, size: Size) -> Picture:
    """A sample source image: bands from its name, and the name written on it."""
    return Picture(size, name, caption=(name.rsplit(".", 1)[0],), caption_on_top=True)
