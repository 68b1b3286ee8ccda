"""Faults of the result-image URLs: downloads that break, pages that are not images, oversized images.

They exist so the provider's copying can be tested against real sockets: the API routes stay healthy,
only what a CDN would do wrong to a download goes wrong.
"""

from __future__ import annotations

import io
import struct

import pytest
import requests
from PIL import Image
from tests.emulator.support import TIMEOUT, Api, ApiFactory, EmulatorFactory

from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.cli import _config, build_parser

EXTERNAL = "https://images.example.com/a.png"


def result_url(api: Api) -> str:
    """A finished result image: an upscaling answers ``done`` at once."""
    answer = api.upscale(EXTERNAL)
    assert answer.status_code == 201, answer.text
    url: str = answer.json()["results"][0]
    return url


def png_chunks(data: bytes) -> dict[bytes, int]:
    """Chunk type → payload length of a PNG file."""
    chunks, position = {}, 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks[data[position + 4 : position + 8]] = length
        position += 12 + length
    return chunks


@pytest.mark.tengr_emulator(file_break_rate=1.0)
def test_a_broken_download_announces_the_whole_image_then_hangs_up_halfway(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    with requests.get(result_url(api), stream=True, timeout=TIMEOUT) as answer:
        announced = int(answer.headers["Content-Length"])
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            answer.content  # noqa: B018 - reading the body is what breaks

    assert answer.status_code == 200
    assert announced > 0
    assert tengr_emulator.stats().requests["GET /files/{name}"] == {"broken": 1}


@pytest.mark.tengr_emulator(file_break_rate=1.0, file_chunked=True)
def test_a_broken_chunked_download_ends_without_its_last_chunk(api: Api) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(result_url(api), timeout=TIMEOUT)


@pytest.mark.tengr_emulator(file_not_image_rate=1.0)
def test_a_result_url_can_answer_an_html_page_instead_of_the_image(api: Api) -> None:
    answer = requests.get(result_url(api), timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.content.startswith(b"<!DOCTYPE html>")


@pytest.mark.tengr_emulator(file_padding_bytes=300_000)
def test_padding_makes_a_png_as_large_as_asked_and_keeps_it_decodable(
    api: Api, tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    padded = requests.get(result_url(api), timeout=TIMEOUT).content

    chunks = png_chunks(padded)
    assert chunks[b"paDd"] == 300_000 - 12  # the chunk's framing counts towards the padding
    assert list(chunks)[-1] == b"IEND"
    with Image.open(io.BytesIO(padded)) as image:
        image.load()
        assert (image.format, image.size) == ("PNG", (2048, 2048))


@pytest.mark.tengr_emulator(file_chunked=True)
def test_chunked_files_carry_no_length_and_arrive_whole(api: Api) -> None:
    answer = requests.get(result_url(api), timeout=TIMEOUT)

    assert "Content-Length" not in answer.headers
    assert answer.headers["Transfer-Encoding"] == "chunked"
    with Image.open(io.BytesIO(answer.content)) as image:
        image.load()
        assert image.size == (2048, 2048)


def test_file_faults_are_a_seeded_share_that_replays(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    def outcomes(seed: int) -> list[str]:
        api = api_for(tengr_emulator_factory(file_break_rate=0.3, file_not_image_rate=0.3, seed=seed))
        url = result_url(api)
        seen = []
        for _ in range(30):
            try:
                answer = requests.get(url, timeout=TIMEOUT)
            except requests.exceptions.ChunkedEncodingError:
                seen.append("broken")
            else:
                seen.append("page" if answer.headers["Content-Type"].startswith("text/html") else "image")
        return seen

    first, again = outcomes(4), outcomes(4)

    assert first == again
    assert set(first) == {"broken", "page", "image"}


@pytest.mark.tengr_emulator(file_break_rate=1.0, file_not_image_rate=0.0)
def test_file_faults_spare_the_api_samples_and_head_requests(api: Api, tengr_emulator: TengrEmulator) -> None:
    url = result_url(api)

    assert api.get("/v1/artworks").status_code == 200
    assert requests.get(tengr_emulator.sample_image_url("s", width=8, height=8), timeout=TIMEOUT).ok
    assert requests.head(url, timeout=TIMEOUT).status_code == 200


def test_cli_flags_set_the_file_faults() -> None:
    args = build_parser().parse_args(
        [
            "--file-break-rate",
            "0.25",
            "--file-not-image-rate",
            "0.5",
            "--file-padding-bytes",
            "1024",
            "--file-chunked",
        ]
    )

    config = _config(args)

    assert (config.file_break_rate, config.file_not_image_rate) == (0.25, 0.5)
    assert (config.file_padding_bytes, config.file_chunked) == (1024, True)
