"""Real, decodable result images, drawn from their :class:`~tengr_provider.testing.pictures.Picture`
quickly and only when someone downloads them.

PNG is written with the standard library, row by row: a row repeated is PNG's "Up" filter over
identical pixels, i.e. all zero bytes, which zlib compresses at hundreds of MB/s. A plain picture is a
few horizontal colour bands with a gradient (one row per band); an upscale is its source's rows, each
widened once and repeated, so even the largest upscaling result (9728x9728) takes about a second.
Anything more — a source resized, a tint, a caption — is drawn with Pillow (the ``testing`` extra);
without it, every picture is drawn plain, at its size. WebP always needs Pillow.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from tengr_provider.testing.pictures import CAPTION_STRIP, TINT_SHARE, Picture
from tengr_provider.testing.sizes import Size

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

PNG_CONTENT_TYPE = "image/png"
WEBP_CONTENT_TYPE = "image/webp"
CONTENT_TYPES = {"png": PNG_CONTENT_TYPE, "webp": WEBP_CONTENT_TYPE}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_NONE = b"\x00"
_FILTER_UP = b"\x02"
_BANDS = 5
#: Uncompressed bytes handed to zlib per call: large enough to be fast, small enough to stay lean.
_FEED_BYTES = 1 << 20


class WebpUnavailableError(RuntimeError):
    """WebP output was asked for, but Pillow (the only encoder we use) is not installed."""


def palette(key: str) -> list[tuple[int, int, int]]:
    """Band colours derived from ``key``, so different images look different but each is stable."""
    digest = hashlib.sha256(key.encode()).digest()
    return [(digest[3 * i], digest[3 * i + 1], digest[3 * i + 2]) for i in range(_BANDS)]


def _band_bounds(height: int) -> Iterator[tuple[int, int]]:
    """(first row, row count) of each band: up to :data:`_BANDS` bands that together cover every row."""
    bands = min(_BANDS, height)
    for index in range(bands):
        top = index * height // bands
        yield top, (index + 1) * height // bands - top


def _gradient_row(width: int, colour: tuple[int, int, int]) -> bytes:
    """One RGB row fading from ``colour`` to half its brightness, left to right."""
    row = bytearray(3 * width)
    span = max(1, width - 1)
    for x in range(width):
        shade = 256 - (128 * x) // span
        row[3 * x] = colour[0] * shade >> 8
        row[3 * x + 1] = colour[1] * shade >> 8
        row[3 * x + 2] = colour[2] * shade >> 8
    return bytes(row)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _band_rows(size: Size, key: str) -> Iterator[tuple[bytes, int]]:
    """The rows of a plain picture: each band's gradient row, and how many times it repeats."""
    for colour, (_, rows) in zip(palette(key), _band_bounds(size.height), strict=False):
        yield _gradient_row(size.width, colour), rows


def encode_png_rows(size: Size, rows: Iterable[tuple[bytes, int]]) -> bytes:
    """A truecolour PNG of ``size`` from ``(RGB row, times)`` pairs, top to bottom.

    A row written again is PNG's "Up" filter over zero differences, which costs zlib next to nothing.
    """
    width, height = size
    compressor = zlib.compressobj(6)
    idat = bytearray()
    unchanged = _FILTER_UP + bytes(3 * width)
    per_feed = max(1, _FEED_BYTES // len(unchanged))
    for row, times in rows:
        idat += compressor.compress(_FILTER_NONE + row)
        remaining = times - 1
        while remaining:
            batch = min(remaining, per_feed)
            idat += compressor.compress(unchanged * batch)
            remaining -= batch
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(idat)) + _chunk(b"IEND", b"")


def encode_png(size: Size, key: str) -> bytes:
    """A plain truecolour PNG of ``size`` in colours derived from ``key`` (the standard library only).

    :param size: width and height in pixels.
    :param key: what the colours are derived from (e.g. the file name).
    """
    return encode_png_rows(size, _band_rows(size, key))


#: A private, ancillary, safe-to-copy PNG chunk type: decoders skip it (PNG spec, section 5.4).
_PADDING_CHUNK = b"paDd"


def pad_png(data: bytes, padding: int) -> bytes:
    """``data`` (a PNG) grown by ``padding`` bytes that every decoder skips, so it stays a valid image.

    :param data: a PNG file as :func:`encode_png` writes it (ending with the 12-byte IEND chunk).
    :param padding: bytes to add; the chunk's 12 bytes of framing count towards it.
    """
    if padding <= 0:
        return data
    payload = bytes(max(0, padding - 12))
    return data[:-12] + _chunk(_PADDING_CHUNK, payload) + data[-12:]


def _draw(picture: Picture) -> PilImage:
    """``picture`` drawn with Pillow: its source resized (or its bands), its tint, its caption."""
    from PIL import Image

    size = (picture.size.width, picture.size.height)
    if picture.source is not None:
        image = _draw(picture.source)
        if image.size != size:
            image = image.resize(size, Image.Resampling.BILINEAR)
    else:
        rows = b"".join(row * times for row, times in _band_rows(picture.size, picture.key))
        image = Image.frombytes("RGB", size, rows)
    if picture.tint is not None:
        image = Image.blend(image, Image.new("RGB", size, picture.tint), TINT_SHARE)
    if picture.caption:
        _write_caption(image, picture.caption, on_top=picture.caption_on_top)
    return image


def _write_caption(image: PilImage, lines: tuple[str, ...], *, on_top: bool) -> None:
    """``lines`` in white on a dark strip across the bottom (or top), as large as the width allows."""
    from PIL import ImageDraw, ImageFont

    width, height = image.size
    probe = ImageFont.load_default(size=100)
    widest = max(probe.getlength(line) for line in lines) or 1.0
    font_size = max(8, min(height // (4 * len(lines) + 6), int(100 * 0.92 * width / widest)))
    font = ImageFont.load_default(size=font_size)
    line_height = round(font_size * 1.25)
    strip = line_height * len(lines) + font_size // 2
    top = 0 if on_top else height - strip
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, top, width, top + strip), fill=CAPTION_STRIP)
    for index, line in enumerate(lines):
        draw.text(
            (round(width * 0.04), top + font_size // 4 + index * line_height), line, fill="white", font=font
        )


def _upscaled_rows(picture: Picture, factor: int) -> Iterator[tuple[bytes, int]]:
    """An upscale's rows: each of its source's rows widened ``factor`` times, written ``factor`` times."""
    from PIL import Image

    assert picture.source is not None
    source = _draw(picture.source)
    wide = source.resize((picture.size.width, source.height), Image.Resampling.NEAREST).tobytes()
    stride = 3 * picture.size.width
    for top in range(0, len(wide), stride):
        yield wide[top : top + stride], factor


def encode(picture: Picture, image_format: str) -> bytes:
    """The bytes of ``picture`` as ``png`` or ``webp``.

    :raises WebpUnavailableError: WebP asked for without Pillow installed.
    """
    if image_format == "webp":
        return _encode_webp(picture)
    if picture.plain or not pillow_available():
        return encode_png(picture.size, picture.key)
    factor = picture.scale
    if factor is not None:
        return encode_png_rows(picture.size, _upscaled_rows(picture, factor))
    image = _draw(picture)
    stride = 3 * picture.size.width
    data = image.tobytes()
    return encode_png_rows(
        picture.size, ((data[top : top + stride], 1) for top in range(0, len(data), stride))
    )


def _encode_webp(picture: Picture) -> bytes:
    """``picture`` as WebP, drawn and encoded by Pillow."""
    if not pillow_available():  # pragma: no cover - depends on the environment
        raise WebpUnavailableError(
            "the tengr emulator needs Pillow to produce WebP images: "
            "pip install 'airflow-provider-tengr[testing]'"
        )
    buffer = io.BytesIO()
    _draw(picture).save(buffer, format="WEBP", quality=80, method=0)
    return buffer.getvalue()


def pillow_available() -> bool:
    """Whether Pillow can be imported here (drawing beyond plain bands, and WebP)."""
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


class ImageCache:
    """Encoded images kept by name, least recently used dropped first once ``max_bytes`` is exceeded.

    Images are encoded on first download rather than at creation, so a test that never downloads
    pays nothing; the cache makes repeated downloads (a retried copy task) cheap.

    :param max_bytes: total size of cached images to keep.
    """

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The cached bytes for ``key``, made with ``make()`` (outside the lock) if missing."""
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
                return data
        data = make()
        with self._lock:
            if key not in self._items:
                self._items[key] = data
                self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)
        return data

    def clear(self) -> None:
        """Forget every cached image."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
