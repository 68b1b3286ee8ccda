"""Every route answers with the status and body shape the API reference documents."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from tests.emulator.support import TIMEOUT, Api, poll_until, wait_for_status

from tengr_provider.models import ApiError, Artwork, ArtworkStatus, StyleDnaImage
from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.tengr_emulator(processing_seconds=0.3)

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_photo_pilot_answers_202_with_a_starting_artwork(api: Api) -> None:
    answer = api.photo_pilot(prompt="a shoe", aspectRatio="1:1")

    assert answer.status_code == 202
    body = answer.json()
    assert set(body) == {"id", "artworkType", "parameters", "duration", "results", "status", "createdAt"}
    assert uuid.UUID(body["id"]).version == 4
    assert body["artworkType"] == "photo_pilot"
    assert body["status"] == "starting"
    assert body["results"] == []
    assert body["duration"] == 0
    assert ISO_UTC.fullmatch(body["createdAt"])
    assert body["parameters"] == {
        "imageUrl": "https://images.example.com/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 3,
        "effort": 2,
        "prompt": "a shoe",
        "aspectRatio": "1:1",
    }
    Artwork.model_validate(body)


def test_photo_pilot_echo_keeps_only_the_words_the_api_keeps(api: Api) -> None:
    long_prompt = " ".join(f"w{n}" for n in range(300))

    parameters = api.photo_pilot(prompt=long_prompt).json()["parameters"]

    assert parameters["prompt"].split() == long_prompt.split()[:256]


def test_style_dna_answers_201_with_an_expiring_image_url(api: Api, tengr_emulator: TengrEmulator) -> None:
    answer = api.style_dna()

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"imageUrl", "expiresAt", "creditsUsed"}
    assert body["imageUrl"].startswith(tengr_emulator.url + "/files/")
    assert body["imageUrl"].endswith(".png")
    assert ISO_UTC.fullmatch(body["expiresAt"])
    assert body["creditsUsed"] == 1
    StyleDnaImage.model_validate(body)


def test_upscaling_answers_201_with_a_done_artwork(api: Api) -> None:
    answer = api.upscale("https://images.example.com/shoe.png", scale_factor=3)

    assert answer.status_code == 201
    artwork = Artwork.model_validate(answer.json())
    assert artwork.artwork_type == "upscaling"
    assert artwork.status is ArtworkStatus.DONE
    assert len(artwork.results) == 1
    assert artwork.parameters == {"imageUrl": "https://images.example.com/shoe.png", "scaleFactor": 3}


def test_get_artwork_answers_200_with_the_artwork(api: Api) -> None:
    created = api.photo_pilot().json()

    answer = api.artwork(created["id"])

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["id"] == created["id"]
    assert answer.json()["createdAt"] == created["createdAt"]
    Artwork.model_validate(answer.json())


def test_list_answers_200_with_artworks_newest_first(api: Api) -> None:
    ids = [api.photo_pilot().json()["id"] for _ in range(3)]
    ids.append(api.upscale("https://images.example.com/a.png").json()["id"])

    answer = api.get("/v1/artworks")

    assert answer.status_code == 200
    assert [artwork["id"] for artwork in answer.json()] == ids[::-1]


def test_list_pages_with_offset_and_limit(api: Api) -> None:
    ids = [api.photo_pilot().json()["id"] for _ in range(5)]

    page = api.get("/v1/artworks", params={"offset": 1, "limit": 2}).json()

    assert [artwork["id"] for artwork in page] == [ids[3], ids[2]]


@pytest.mark.tengr_emulator(processing_seconds=0.3, list_order="oldest")
def test_list_order_oldest_lists_oldest_first(api: Api) -> None:
    ids = [api.photo_pilot().json()["id"] for _ in range(3)]

    assert [artwork["id"] for artwork in api.get("/v1/artworks").json()] == ids


@pytest.mark.tengr_emulator(processing_seconds=0.3, list_order="shuffled", seed=1)
def test_list_order_shuffled_lists_every_artwork_in_another_order(api: Api) -> None:
    ids = [api.photo_pilot().json()["id"] for _ in range(8)]

    listed = [artwork["id"] for artwork in api.get("/v1/artworks").json()]

    assert sorted(listed) == sorted(ids)
    assert listed not in (ids, ids[::-1])


@pytest.mark.tengr_emulator(processing_seconds=0.1, list_staleness=30)
def test_list_staleness_shows_each_status_as_it_was_that_long_ago(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    assert wait_for_status(api, artwork_id, {"succeeded"})["status"] == "succeeded"  # the read: the truth

    (listed,) = api.get("/v1/artworks").json()
    assert listed["status"] == "starting"  # the list: 30 s ago, before it even began
    assert listed["results"] == []


@pytest.mark.tengr_emulator(processing_seconds=0.2, list_staleness=0.3)
def test_a_stale_list_catches_up_after_the_staleness(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    assert poll_until(lambda: api.get("/v2/artworks").json()[0]["status"] == "succeeded", timeout=5)
    assert api.artwork(artwork_id).json()["status"] == "succeeded"


def test_list_staleness_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="list_staleness: must be >= 0"):
        TengrEmulator(list_staleness=-1)


def test_list_order_must_be_a_known_one() -> None:
    with pytest.raises(ValueError, match="list_order: must be one of newest, oldest, shuffled"):
        TengrEmulator(list_order="sideways")


def test_list_defaults_to_ten(api: Api) -> None:
    for _ in range(12):
        api.upscale("https://images.example.com/a.png")

    assert len(api.get("/v1/artworks").json()) == 10


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "ten"}, {"offset": "1.5"}]
)
def test_list_refuses_out_of_range_paging_with_400(api: Api, query: dict[str, object]) -> None:
    answer = api.get("/v1/artworks", params=query)

    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "Bad Request"
    assert body["statusCode"] == 400
    assert isinstance(body["message"], list)
    assert body["message"][0].startswith(next(iter(query)))


@pytest.mark.parametrize("limit", [1, 500])
def test_list_accepts_the_limit_bounds(api: Api, limit: int) -> None:
    assert api.get("/v1/artworks", params={"limit": limit}).status_code == 200


def test_sample_image_serves_a_png_of_the_asked_size(api: Api, tengr_emulator: TengrEmulator) -> None:
    url = tengr_emulator.sample_image_url("shoe", width=640, height=480)

    answer = requests.get(url, timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert api.image(url).size == (640, 480)


def test_sample_image_defaults_to_1024_square(api: Api, tengr_emulator: TengrEmulator) -> None:
    assert api.image(tengr_emulator.url + "/samples/plain.png").size == (1024, 1024)


@pytest.mark.parametrize("path", ["/samples/shoe.png?width=0", "/samples/shoe.png?height=big"])
def test_sample_image_refuses_a_bad_size_with_400(api: Api, path: str) -> None:
    assert api.get(path).status_code == 400


def test_unknown_route_answers_the_nestjs_404(api: Api) -> None:
    answer = api.get("/v1/nothing-here")

    assert answer.status_code == 404
    assert answer.json() == {
        "message": "Cannot GET /v1/nothing-here",
        "error": "Not Found",
        "statusCode": 404,
    }
    ApiError.model_validate(answer.json())


def test_wrong_method_answers_the_nestjs_404(api: Api) -> None:
    answer = api.session.delete(api.url("/v1/artworks/photo-pilot"), timeout=TIMEOUT)

    assert answer.status_code == 404
    assert answer.json()["message"] == "Cannot DELETE /v1/artworks/photo-pilot"


def test_head_on_a_result_file_answers_headers_only(api: Api) -> None:
    url = api.upscale("https://images.example.com/a.png").json()["results"][0]

    answer = requests.head(url, timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    assert int(answer.headers["Content-Length"]) > 0
    assert answer.content == b""


def test_result_urls_follow_the_host_the_client_used(api: Api, tengr_emulator: TengrEmulator) -> None:
    local = tengr_emulator.url.replace("127.0.0.1", "localhost")

    artwork = api.post(
        f"{local}/v1/artworks/upscaling", {"imageUrl": "https://images.example.com/a.png"}
    ).json()

    assert artwork["results"][0].startswith(local + "/files/")


def test_status_moves_from_starting_through_processing_to_succeeded(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]
    seen = [api.artwork(artwork_id).json()["status"]]

    deadline = time.monotonic() + 10  # bounded: an artwork that never ends fails here, not at the timeout
    while seen[-1] != "succeeded" and time.monotonic() < deadline:
        seen.append(api.artwork(artwork_id).json()["status"])

    assert [status for n, status in enumerate(seen) if n == 0 or seen[n - 1] != status] == [
        "starting",
        "processing",
        "succeeded",
    ]


def test_succeeded_artwork_has_results_and_duration(api: Api, tengr_emulator: TengrEmulator) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    artwork = wait_for_status(api, artwork_id, {"succeeded"})

    assert artwork["results"] == [f"{tengr_emulator.url}/files/{artwork_id}_0.png"]
    assert artwork["duration"] == pytest.approx(0.3)


@pytest.mark.tengr_emulator(processing_seconds=0.1, results_per_artwork=3)
def test_results_per_artwork_sets_the_number_of_images(api: Api) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    artwork = wait_for_status(api, artwork_id, {"succeeded"})

    assert [url.rsplit("/", 1)[1] for url in artwork["results"]] == [
        f"{artwork_id}_{n}.png" for n in range(3)
    ]
    assert all(api.get(url).status_code == 200 for url in artwork["results"])


def test_result_file_answers_404_before_the_artwork_succeeds(api: Api, tengr_emulator: TengrEmulator) -> None:
    artwork_id = api.photo_pilot().json()["id"]

    assert requests.get(f"{tengr_emulator.url}/files/{artwork_id}_0.png", timeout=TIMEOUT).status_code == 404


def test_unknown_artwork_answers_404(api: Api) -> None:
    missing = str(uuid.uuid4())

    answer = api.artwork(missing)

    assert answer.status_code == 404
    assert answer.json() == {
        "message": f"Artwork {missing} not found",
        "error": "Not Found",
        "statusCode": 404,
    }


@pytest.mark.tengr_emulator(processing_seconds=0, retention_seconds=0.3)
def test_artwork_and_its_files_answer_404_past_retention(api: Api) -> None:
    artwork = api.upscale("https://images.example.com/a.png").json()
    assert api.artwork(artwork["id"]).status_code == 200
    assert api.get(artwork["results"][0]).status_code == 200

    assert poll_until(lambda: api.artwork(artwork["id"]).status_code == 404)

    assert api.get(artwork["results"][0]).status_code == 404
    assert api.get("/v1/artworks").json() == []


@pytest.mark.tengr_emulator(url_ttl_seconds=0.3)
def test_style_dna_url_answers_404_after_it_expires(api: Api) -> None:
    url = api.style_dna().json()["imageUrl"]
    assert api.get(url).status_code == 200

    assert poll_until(lambda: api.get(url).status_code == 404)
