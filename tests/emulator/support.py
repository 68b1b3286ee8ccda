"""What the emulator's tests share: valid request bodies and a plain-HTTP client (never the hook)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from PIL import Image

from tengr_provider.testing import TengrEmulator

#: Generous per-call timeout: a hung emulator must fail a test, not stall the suite.
TIMEOUT = 10


def photo_pilot_body(**fields: Any) -> dict[str, Any]:
    """A valid photo-pilot body (camelCase, as on the wire) with ``fields`` overriding."""
    body: dict[str, Any] = {
        "imageUrl": "https://images.example.com/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 3,
        "effort": 2,
    }
    body.update(fields)
    return body


def style_dna_body(**fields: Any) -> dict[str, Any]:
    """A valid style-dna body with ``fields`` overriding."""
    body: dict[str, Any] = {
        "visualPrompt": "brand style",
        "anchorImageUrl": "https://images.example.com/anchor.png",
        "description": "a red sneaker on a white table",
    }
    body.update(fields)
    return body


@dataclass
class Api:
    """A keep-alive client of one emulator that sends its API key unless told otherwise."""

    emulator: TengrEmulator
    session: requests.Session

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.emulator.url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=TIMEOUT, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=TIMEOUT, **kwargs)

    def photo_pilot(self, **fields: Any) -> requests.Response:
        return self.post("/v1/artworks/photo-pilot", photo_pilot_body(**fields))

    def style_dna(self, **fields: Any) -> requests.Response:
        return self.post("/v1/style-dna/generate", style_dna_body(**fields))

    def upscale(self, image_url: str, scale_factor: int = 2) -> requests.Response:
        return self.post("/v1/artworks/upscaling", {"imageUrl": image_url, "scaleFactor": scale_factor})

    def artwork(self, artwork_id: str) -> requests.Response:
        return self.get(f"/v1/artworks/{artwork_id}")

    def image(self, url: str) -> Image.Image:
        """Download ``url`` (no auth needed) and decode it."""
        answer = requests.get(url, timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        image = Image.open(io.BytesIO(answer.content))
        image.load()
        return image


ApiFactory = Callable[[TengrEmulator], Api]


def wait_for_status(api: Api, artwork_id: str, statuses: set[str], timeout: float = 5.0) -> dict[str, Any]:
    """Poll until the artwork's status is one of ``statuses``; returns the artwork JSON."""
    deadline = time.monotonic() + timeout
    while True:
        artwork: dict[str, Any] = api.artwork(artwork_id).json()
        if artwork["status"] in statuses or time.monotonic() > deadline:
            return artwork
        time.sleep(0.02)


def poll_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Call ``check`` every 20 ms until it is true or ``timeout`` passes; returns its last answer."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


#: The ``tengr_emulator_factory`` fixture: keyword options in, a started emulator out.
EmulatorFactory = Callable[..., TengrEmulator]
