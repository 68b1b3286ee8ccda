"""The stats route and ``emu.stats()``: requests per route and status, and every creation."""

from __future__ import annotations

import uuid

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api

from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.1)


def test_stats_count_requests_per_route_and_status(api: Api, tengr_emulator: TengrEmulator) -> None:
    api.photo_pilot()
    api.photo_pilot()
    api.photo_pilot(imageGuidance=7)
    requests.get(tengr_emulator.url + "/v1/artworks", timeout=TIMEOUT)

    stats = tengr_emulator.stats()

    assert stats.requests == {
        "POST /v1/artworks/photo-pilot": {"202": 2, "400": 1},
        "GET /v1/artworks": {"401": 1},
    }
    assert stats.count("POST /v1/artworks/photo-pilot") == 3
    assert stats.count("POST /v1/artworks/photo-pilot", 202) == 2
    assert stats.requests_total == 4


def test_stats_collapse_ids_into_one_route(api: Api, tengr_emulator: TengrEmulator) -> None:
    for artwork_id in (api.photo_pilot().json()["id"], str(uuid.uuid4()), "not-a-uuid"):
        api.artwork(artwork_id)

    assert tengr_emulator.stats().requests["GET /v1/artworks/{id}"] == {"200": 1, "404": 2}


def test_stats_record_every_creation_by_type(api: Api, tengr_emulator: TengrEmulator) -> None:
    created = [
        api.photo_pilot().json()["id"],
        api.upscale("https://images.example.com/a.png").json()["id"],
        api.photo_pilot().json()["id"],
    ]
    api.style_dna()

    stats = tengr_emulator.stats()

    assert stats.artworks_created == 4
    assert stats.artworks_created_by_type == {"photo_pilot": 2, "upscaling": 1, "style_dna": 1}
    assert [artwork.id for artwork in stats.artworks[:3]] == created
    assert [artwork.artwork_type for artwork in stats.artworks] == [
        "photo_pilot",
        "upscaling",
        "photo_pilot",
        "style_dna",
    ]
    assert stats.artworks[0].created_at == api.artwork(created[0]).json()["createdAt"]


def test_stats_route_serves_the_same_data_as_the_accessor(api: Api, tengr_emulator: TengrEmulator) -> None:
    api.photo_pilot()
    api.style_dna()
    expected = tengr_emulator.stats().to_api()

    served = requests.get(tengr_emulator.url + "/_emulator/stats", timeout=TIMEOUT).json()

    assert served == expected
    assert served["artworksCreated"] == 2
    assert served["artworksCreatedByType"] == {"photo_pilot": 1, "style_dna": 1}
    assert set(served["artworks"][0]) == {"id", "artworkType", "createdAt"}
    assert served["creditsRemaining"] is None


def test_stats_count_files_samples_and_the_stats_route_itself(
    api: Api, tengr_emulator: TengrEmulator
) -> None:
    url = api.upscale("https://images.example.com/a.png").json()["results"][0]
    api.get(url)
    api.get(tengr_emulator.sample_image_url())
    api.get("/_emulator/stats")
    api.get("/nowhere")

    requests_seen = tengr_emulator.stats().requests

    assert requests_seen["GET /files/{name}"] == {"200": 1}
    assert requests_seen["GET /samples/{name}"] == {"200": 1}
    assert requests_seen["GET /_emulator/stats"] == {"200": 1}
    assert requests_seen["GET /nowhere"] == {"404": 1}


@pytest.mark.tengr_emulator(credits=5)
def test_stats_show_the_credits_left(api: Api, tengr_emulator: TengrEmulator) -> None:
    api.photo_pilot()

    assert tengr_emulator.stats().credits_remaining == 4


def test_reset_stats_zeroes_counts_but_keeps_artworks(api: Api, tengr_emulator: TengrEmulator) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    tengr_emulator.reset_stats()

    assert tengr_emulator.stats().requests == {}
    assert tengr_emulator.stats().artworks_created == 0
    assert api.artwork(artwork_id).status_code == 200


def test_a_snapshot_does_not_change_afterwards(api: Api, tengr_emulator: TengrEmulator) -> None:
    before = tengr_emulator.stats()

    api.photo_pilot()

    assert before.requests_total == 0
    assert before.artworks == []
