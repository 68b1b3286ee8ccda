"""Real, decodable result images, made quickly and only when someone downloads them.

PNG is written with the standard library: a few horizontal colour bands with a gradient, where every
row after a band's first is PNG's "Up" filter over identical pixels, i.e. all zero bytes. zlib
compresses those at hundreds of MB/s, so even the largest upscaling result (9728x9728) takes under a
second. WebP needs an encoder, so Pillow is imported only for it.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator

from tengr_provider.testing.sizes import Size

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


def encode_png(size: Size, key: str) -> bytes:
    """A truecolour PNG of ``size`` in colours derived from ``key``.

    :param size: width and height in pixels.
    :param key: what the colours are derived from (e.g. the file name).
    """
    width, height = size
    compressor = zlib.compressobj(6)
    idat = bytearray()
    unchanged = _FILTER_UP + bytes(3 * width)
    per_feed = max(1, _FEED_BYTES // len(unchanged))
    for colour, (_, rows) in zip(palette(key), _band_bounds(height), strict=False):
        idat += compressor.compress(_FILTER_NONE + _gradient_row(width, colour))
        remaining = rows - 1
        while remaining:
            batch = min(remaining, per_feed)
            idat += compressor.compress(unchanged * batch)
            remaining -= batch
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(idat)) + _chunk(b"IEND", b"")


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


def encode_webp(size: Size, key: str) -> bytes:
    """A WebP image of ``size`` with the same bands as :func:`encode_png`, encoded by Pillow.

    :raises WebpUnavailableError: when Pillow is not installed.
    """
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise WebpUnavailableError(
            "the tengr emulator needs Pillow to produce WebP images: "
            "pip install 'airflow-provider-tengr[testing]'"
        ) from error
    image = Image.new("RGB", size)
    for colour, (top, rows) in zip(palette(key), _band_bounds(size.height), strict=False):
        image.paste(colour, (0, top, size.width, top + rows))
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80, method=0)
    return buffer.getvalue()


def webp_available() -> bool:
    """Whether WebP images can be produced here (Pillow importable)."""
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


ENCODERS: dict[str, Callable[[Size, str], bytes]] = {"png": encode_png, "webp": encode_webp}


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
