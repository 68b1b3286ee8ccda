"""API V1 and V2 behind the ``api_version`` extra: one path table, and tolerance of what the API adds."""

from __future__ import annotations

import ast
import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from aioresponses import CallbackResult, aioresponses
from tests.helpers import (
    BASE_URL,
    HAS_TASK_STATE_STORE,
    FakeTaskStateStore,
    LogText,
    connection_env,
    task_context,
)

import tengr_provider
from tengr_provider.api_paths import ASSUMED, PATHS
from tengr_provider.exceptions import TengrNotFoundError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.models import StyleDnaImage
from tengr_provider.operators import TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.sensors.artwork import TengrArtworkSensor
from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.pytest_plugin import CONNECTION_ENV
from tengr_provider.triggers._poller import SPOT_CHECKS
from tengr_provider.triggers.artwork import TengrArtworkTrigger

ART = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PACKAGE = Path(tengr_provider.__file__).parent
STYLE = {
    "visual_prompt": "film grain",
    "anchor_image_url": "https://img.example/a.png",
    "description": "a mug",
}


def artwork(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": ART, "status": status, "results": [], "createdAt": "2026-11-29T10:00:00.000Z", **extra}


def use_connection(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    monkeypatch.setenv(*connection_env(extra={"max_retries": 0, **extra}))


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def _string_constants(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants that are code, not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_only_the_path_table_names_an_api_version_path() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "api_paths.py"
        for node in _string_constants(ast.parse(path.read_text()))
        if "/v1" in node.value or "/v2" in node.value
    ]
    assert offenders == []


def test_both_versions_name_the_same_calls_and_assumptions_are_in_the_table() -> None:
    assert set(PATHS["v1"]) == set(PATHS["v2"])
    for version, name in ASSUMED:
        assert name in PATHS[version]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_api_version_picks_the_paths_of_every_call(
    version: str, monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version=version.upper())
    api.get(f"{BASE_URL}/{version}/artworks/{ART}", json=artwork("succeeded"))
    api.get(f"{BASE_URL}/{version}/artworks", json=[artwork("succeeded")])
    api.post(f"{BASE_URL}/{version}/artworks/upscaling", json=artwork("starting"), status=202)
    hook = TengrHook()
    assert hook.get_artwork(ART).id == ART
    assert len(hook.list_artworks()) == 1
    assert hook.create_upscaling({"image_url": "https://img.example/a.png"}).id == ART


def test_api_version_defaults_to_v1_and_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch)
    assert TengrHook().settings.api_version == "v1"
    use_connection(monkeypatch, api_version="v3")
    with pytest.raises(ValueError, match=r"api_version: must be one of 'v1' or 'v2', got 'v3'"):
        _ = TengrHook().settings


def test_api_paths_replaces_one_entry_of_the_table(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    overrides = json.dumps({"photo-pilot": "/v1/artworks/photo-pilot"})  # as the form's JSON text
    use_connection(monkeypatch, api_version="v2", api_paths=overrides)
    sent = api.post(f"{BASE_URL}/v1/artworks/photo-pilot", json=artwork("starting"), status=202)
    request = {"image_url": "https://i.example/a.png", "image_guidance": 2, "modification": 1}
    TengrHook().create_photo_pilot({**request, "creativity": 1, "effort": 1})
    assert sent.call_count == 1


def test_api_paths_refuses_an_unknown_call(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch, api_paths={"photopilot": "/x"})
    with pytest.raises(ValueError, match=r"api_paths: unknown call 'photopilot'; known: .*photo-pilot"):
        _ = TengrHook().settings


def test_a_404_on_an_artwork_names_the_retention(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json={"message": "Not Found", "statusCode": 404}, status=404)
    with pytest.raises(TengrNotFoundError, match="8-day retention"):
        TengrHook().get_artwork(ART)


def test_a_404_on_a_create_points_at_the_path_overrides(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.post(
        f"{BASE_URL}/v2/artworks/upscaling", json={"message": "Cannot POST", "statusCode": 404}, status=404
    )
    with pytest.raises(TengrNotFoundError, match="api_paths"):
        TengrHook().create_upscaling({"image_url": "https://img.example/a.png"})


def test_a_create_answered_with_an_unknown_status_keeps_the_artwork(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.post(f"{BASE_URL}/v2/artworks/upscaling", json=artwork("queued", priority=2), status=202)
    created = TengrHook().create_upscaling({"image_url": "https://img.example/a.png"})
    assert (created.id, created.status.value, created.status.is_terminal) == (ART, "queued", False)
    assert created.to_api()["priority"] == 2


def test_a_create_answer_that_cannot_be_read_still_keeps_the_id(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock, logs: LogText
) -> None:
    use_connection(monkeypatch)
    api.post(f"{BASE_URL}/v1/artworks/upscaling", json={"id": ART, "createdAt": "yesterday"}, status=201)
    created = TengrHook().create_upscaling({"image_url": "https://img.example/a.png"})
    assert created.id == ART
    assert not created.status.is_terminal
    assert "keeping its id" in logs()


def test_the_sync_wait_goes_on_through_an_unknown_status_and_logs_it_once(
    monkeypatch: pytest.MonkeyPatch,
    api: responses.RequestsMock,
    logs: LogText,
    caplog: pytest.LogCaptureFixture,
    no_sleep: list[float],
) -> None:
    use_connection(monkeypatch, api_version="v2")
    url = f"{BASE_URL}/v2/artworks/{ART}"
    for status in ("queued", "queued", "queued"):
        api.get(url, json=artwork(status))
    api.get(url, json=artwork("succeeded", results=["https://cdn.example/x.png"], extraField="kept"))
    done = TengrHook().wait_for_artwork(ART, poll_interval=1, timeout=60)
    assert done.status.value == "succeeded"
    assert done.to_api()["extraField"] == "kept"
    assert len(no_sleep) == 3
    # Airflow 3.0 logs through stdlib logging (a record, echoed on stderr too), 3.1+ through structlog
    # (stdout only): count the records where there are any, else the lines.
    text = logs()
    records = sum("reports status 'queued'" in record.getMessage() for record in caplog.records)
    assert (records or text.count("reports status 'queued'")) == 1


@pytest.mark.parametrize("coalesce", [False, True], ids=["per-id", "shared-poller"])
def test_the_trigger_goes_on_through_an_unknown_status(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float], coalesce: bool
) -> None:
    use_connection(monkeypatch, api_version="v2")
    answers = [
        artwork("queued"),
        artwork("in_review", newField=1),
        artwork("succeeded", results=["https://cdn.example/x.png"], newField=1),
    ]
    # The shared poller reads the list only for more waits than its spot checks (it reads fewer by id):
    # enough waits that an unknown status on a list page is met, which must not spoil the page.
    ids = [ART, *(f"other-{n}" for n in range(SPOT_CHECKS))] if coalesce else [ART]
    reads: Counter[str] = Counter()

    def read(artwork_id: str) -> dict[str, Any]:
        reads[artwork_id] += 1
        return {**answers[min(reads[artwork_id], len(answers)) - 1], "id": artwork_id}

    with aioresponses() as http:
        http.get(
            re.compile(rf"{re.escape(BASE_URL)}/v2/artworks\?.*"),
            callback=lambda url, **_: CallbackResult(payload=[read(i) for i in ids]),
            repeat=True,
        )
        http.get(
            re.compile(rf"{re.escape(BASE_URL)}/v2/artworks/[^?]+"),
            callback=lambda url, **_: CallbackResult(payload=read(url.path.rsplit("/", 1)[1])),
            repeat=True,
        )
        triggers = [TengrArtworkTrigger(i, poll_interval=0.01, coalesce=coalesce) for i in ids]

        async def events(trigger: TengrArtworkTrigger) -> list[Any]:
            return [event async for event in trigger.run()]

        async def all_events() -> list[list[Any]]:
            return list(await asyncio.gather(*(events(trigger) for trigger in triggers)))

        results = asyncio.run(asyncio.wait_for(all_events(), timeout=30))
    assert [[event.payload["status"] for event in result] for result in results] == [["success"]] * len(ids)
    assert results[0][0].payload["artwork"]["newField"] == 1
    if coalesce:
        assert any("?" in str(url) for (_, url) in http.requests)  # the list was read


def test_the_sensor_is_not_done_on_an_unknown_status(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("queued", newField=1))
    sensor = TengrArtworkSensor(task_id="sense", artwork_id=ART)
    poked = sensor.poke(task_context())  # type: ignore[arg-type]
    assert poked.is_done is False
    assert poked.xcom_value["newField"] == 1


def test_a_v1_synchronous_call_refuses_a_webhook_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch)
    with pytest.raises(TengrRequestValidationError, match="webhook: the V1 upscaling call takes no webhook"):
        TengrHook().create_upscaling(
            {"image_url": "https://img.example/a.png", "webhook": "https://h.example/x"}
        )


def test_a_v2_create_takes_a_webhook_under_the_usual_rules(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    sent = api.post(f"{BASE_URL}/v2/style-dna/generate", json=artwork("starting"), status=202)
    TengrHook().submit_style_dna({**STYLE, "webhook": "https://hooks.example/tengr"})
    assert json.loads(sent.calls[0].request.body)["webhook"] == "https://hooks.example/tengr"
    with pytest.raises(TengrRequestValidationError, match="webhook: must be on a public host"):
        TengrHook().submit_style_dna({**STYLE, "webhook": "https://10.0.0.7/x"})


def test_style_dna_under_v2_waits_and_answers_in_the_v1_shape(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock, no_sleep: list[float]
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.post(f"{BASE_URL}/v2/style-dna/generate", json=artwork("starting"), status=202)
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("processing"))
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("succeeded", results=["https://cdn.example/s.png"]))
    operator = TengrStyleDnaOperator(task_id="style", poll_interval=1, **STYLE)
    assert operator.execute(task_context()) == {  # type: ignore[arg-type]
        "imageUrl": "https://cdn.example/s.png",
        "expiresAt": "2026-12-07T10:00:00Z",  # createdAt + the 8-day retention
        "creditsUsed": None,
        "artworkId": ART,
    }


def test_style_dna_v2_fields_of_the_artwork_win_over_the_assumed_ones() -> None:
    from tengr_provider.models import Artwork

    done = Artwork.model_validate(
        artwork(
            "succeeded",
            imageUrl="https://cdn.example/i.webp",
            expiresAt="2026-12-01T00:00:00Z",
            creditsUsed=3,
        )
    )
    image = StyleDnaImage.from_artwork(done)
    assert (image.image_url, image.credits_used, image.expires_at.day) == ("https://cdn.example/i.webp", 3, 1)


def test_upscaling_under_v2_waits_for_the_upscaling_v2_artwork(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock, no_sleep: list[float]
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.post(
        f"{BASE_URL}/v2/artworks/upscaling", json=artwork("starting", artworkType="upscaling_v2"), status=202
    )
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("queued", artworkType="upscaling_v2"))
    api.get(
        f"{BASE_URL}/v2/artworks/{ART}",
        json=artwork("succeeded", artworkType="upscaling_v2", results=["https://cdn.example/u.png"]),
    )
    operator = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png", poll_interval=1)
    result = operator.execute(task_context())  # type: ignore[arg-type]
    assert (result["artworkType"], result["status"], result["results"]) == (
        "upscaling_v2",
        "succeeded",
        ["https://cdn.example/u.png"],
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_test_button_names_the_version_that_answered(
    version: str, tengr_emulator: TengrEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONNECTION_ENV, tengr_emulator.connection_json_for(version))
    ok, message = TengrHook().test_connection()
    assert ok, message
    assert f"API {version} answered GET /{version}/artworks and the API key was accepted" in message
    assert message.endswith("GET / lists routes of v1, v2")


def test_the_test_button_says_which_version_refused_the_key(
    tengr_emulator: TengrEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {**json.loads(tengr_emulator.connection_json_for("v2")), "password": "not-the-key"}
    monkeypatch.setenv(CONNECTION_ENV, json.dumps(connection))
    ok, message = TengrHook().test_connection()
    assert not ok
    assert message.startswith("API v2: tengr.ai GET /v2/artworks: HTTP 401")
    assert "not-the-key" not in message


def test_the_test_button_advises_a_version_the_api_offers(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    api.get(
        f"{BASE_URL}/v2/artworks", json={"message": "Cannot GET /v2/artworks", "statusCode": 404}, status=404
    )
    api.get(f"{BASE_URL}/", json={"routes": [{"method": "GET", "path": "/v1/artworks/:id"}]})
    ok, message = TengrHook().test_connection()
    assert not ok
    assert message.endswith("GET / lists routes of v1; set the connection's api_version to one of them")


@pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="the task state store arrived in Airflow 3.3")
def test_a_retry_reconnects_to_an_artwork_in_an_unknown_status_instead_of_paying_again(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock, no_sleep: list[float]
) -> None:
    use_connection(monkeypatch, api_version="v2")
    create = api.post(f"{BASE_URL}/v2/artworks/upscaling", json=artwork("starting"), status=202)
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("queued"))
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("queued"))
    api.get(f"{BASE_URL}/v2/artworks/{ART}", json=artwork("succeeded", results=["https://cdn.example/u.png"]))
    operator = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png", poll_interval=1)
    result = operator.execute(task_context(FakeTaskStateStore({"tengr_artwork_id": ART})))  # type: ignore[arg-type]
    assert (result["id"], result["status"]) == (ART, "succeeded")
    assert create.call_count == 0


def test_create_artwork_validates_known_endpoints_and_sends_others_as_given(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch, api_version="v2")
    other = api.post(f"{BASE_URL}/v2/artworks/remove-background", json=artwork("starting"), status=202)
    edit = api.post(f"{BASE_URL}/v2/style-dna/edit", json=artwork("starting"), status=202)
    hook = TengrHook()
    hook.create_artwork("remove-background", {"imageUrl": "https://i.example/a.png", "outputFormat": "png"})
    hook.create_artwork("style-dna/edit", {"imageUrl": "https://i.example/a.png"})
    assert json.loads(other.calls[0].request.body) == {
        "imageUrl": "https://i.example/a.png",
        "outputFormat": "png",
    }
    assert edit.call_count == 1
    with pytest.raises(TengrRequestValidationError, match="scale_factor"):
        hook.create_artwork("upscaling", {"image_url": "https://i.example/a.png", "scale_factor": 20})
    with pytest.raises(TengrRequestValidationError, match="webhook: must be an https URL"):
        hook.create_artwork(
            "face-refiner", {"imageUrl": "https://i.example/a.png", "webhook": "http://h.example"}
        )
    with pytest.raises(ValueError, match="endpoint: must be an artwork endpoint's name"):
        hook.create_artwork("/v2/artworks/remove-background", {})


def test_create_artwork_takes_style_dna_for_the_style_dna_call(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    # "style-dna" is the style-dna call (style-dna/generate), as the batch operator names it too.
    use_connection(monkeypatch, api_version="v2")
    generate = api.post(f"{BASE_URL}/v2/style-dna/generate", json=artwork("starting"), status=202)
    TengrHook().create_artwork("style-dna", STYLE)
    assert generate.call_count == 1
    with pytest.raises(TengrRequestValidationError, match="visual_prompt"):
        TengrHook().prepare_create("style-dna", {**STYLE, "visual_prompt": ""})


def test_create_artwork_refuses_v1_style_dna_which_answers_an_image(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch)
    with pytest.raises(ValueError, match="use TengrStyleDnaOperator"):
        TengrHook().create_artwork("style-dna/generate", STYLE)


def test_a_create_answer_keeps_every_field_it_can_read(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    use_connection(monkeypatch)
    answer = {"id": ART, "status": "done", "results": ["https://cdn.example/u.png"], "duration": "slow"}
    api.post(f"{BASE_URL}/v1/artworks/upscaling", json=answer, status=201)
    created = TengrHook().create_upscaling({"image_url": "https://img.example/a.png"})
    assert (created.id, created.status.value, created.results, created.duration) == (
        ART,
        "done",
        ["https://cdn.example/u.png"],
        None,
    )
