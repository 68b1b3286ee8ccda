"""Bearer auth on the API routes, none on files and samples, and credits that run out."""

from __future__ import annotations

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api, ApiFactory, EmulatorFactory, photo_pilot_body

from tengr_provider.testing import DEFAULT_API_KEY, TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.1)

UNAUTHORIZED = {"message": "Unauthorized", "statusCode": 401}


@pytest.mark.parametrize(
    "path", ["/v1/artworks/photo-pilot", "/v1/artworks/upscaling", "/v1/style-dna/generate"]
)
def test_a_create_without_authorization_answers_401(tengr_emulator: TengrEmulator, path: str) -> None:
    answer = requests.post(tengr_emulator.url + path, json=photo_pilot_body(), timeout=TIMEOUT)

    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


@pytest.mark.parametrize("path", ["/v1/artworks", "/v1/artworks/some-id"])
def test_a_read_without_authorization_answers_401(tengr_emulator: TengrEmulator, path: str) -> None:
    assert requests.get(tengr_emulator.url + path, timeout=TIMEOUT).json() == UNAUTHORIZED


@pytest.mark.parametrize("header", ["Bearer wrong-key", "Bearer", "Basic dGVuZ3I6a2V5", DEFAULT_API_KEY])
def test_a_wrong_or_malformed_key_answers_401(tengr_emulator: TengrEmulator, header: str) -> None:
    answer = requests.get(
        tengr_emulator.url + "/v1/artworks", headers={"Authorization": header}, timeout=TIMEOUT
    )

    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


@pytest.mark.tengr_emulator(api_key="my-own-key")
def test_the_configured_key_is_the_one_accepted(tengr_emulator: TengrEmulator) -> None:
    def status(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.get(tengr_emulator.url + "/v1/artworks", headers=headers, timeout=TIMEOUT).status_code

    assert tengr_emulator.api_key == "my-own-key"
    assert status("my-own-key") == 200
    assert status(DEFAULT_API_KEY) == 401


@pytest.mark.tengr_emulator(api_key=None)
@pytest.mark.parametrize("key", ["anything", "tk-live-0123", DEFAULT_API_KEY])
def test_any_bearer_token_is_accepted_without_a_configured_key(
    tengr_emulator: TengrEmulator, key: str
) -> None:
    headers = {"Authorization": f"Bearer {key}"}

    answer = requests.post(
        tengr_emulator.url + "/v1/artworks/photo-pilot",
        json=photo_pilot_body(),
        headers=headers,
        timeout=TIMEOUT,
    )

    assert answer.status_code == 202


@pytest.mark.tengr_emulator(api_key=None)
def test_a_missing_token_is_refused_even_without_a_configured_key(tengr_emulator: TengrEmulator) -> None:
    assert requests.get(tengr_emulator.url + "/v1/artworks", timeout=TIMEOUT).status_code == 401


def test_files_and_samples_need_no_authorization(api: Api, tengr_emulator: TengrEmulator) -> None:
    result = api.upscale("https://images.example.com/a.png").json()["results"][0]

    assert requests.get(result, timeout=TIMEOUT).status_code == 200
    assert requests.get(tengr_emulator.sample_image_url(), timeout=TIMEOUT).status_code == 200
    assert requests.get(tengr_emulator.url + "/_emulator/stats", timeout=TIMEOUT).status_code == 200


def test_each_create_spends_a_credit_and_none_left_answers_403(
    tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory
) -> None:
    emulator = tengr_emulator_factory(credits=3)
    api = api_for(emulator)

    assert api.photo_pilot().status_code == 202
    assert api.upscale("https://images.example.com/a.png").status_code == 201
    assert api.style_dna().status_code == 201
    refused = [api.photo_pilot(), api.upscale("https://images.example.com/a.png"), api.style_dna()]

    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert refused[0].json() == {"message": "Insufficient credits", "error": "Forbidden", "statusCode": 403}
    assert emulator.stats().artworks_created == 3
    assert emulator.stats().credits_remaining == 0


def test_reads_spend_no_credit(tengr_emulator_factory: EmulatorFactory, api_for: ApiFactory) -> None:
    emulator = tengr_emulator_factory(credits=1)
    api = api_for(emulator)
    artwork_id = api.photo_pilot().json()["id"]

    assert api.artwork(artwork_id).status_code == 200
    assert api.get("/v1/artworks").status_code == 200
    assert emulator.stats().credits_remaining == 0
