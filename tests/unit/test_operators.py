"""The operators with a mocked hook: every branch of submit, wait, defer, resume and finish."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
import responses
from tests.helpers import BASE_URL, HAS_TASK_STATE_STORE, FakeTaskStateStore, task_context

from tengr_provider.exceptions import (
    TengrArtworkFailedError,
    TengrNotFoundError,
    TengrWaitTimeoutError,
)
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.links import RESULT_URL_XCOM_KEY
from tengr_provider.models import Artwork, StyleDnaImage
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.operators._base import ARTWORK_ID_XCOM_KEY
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.triggers.artwork import TengrArtworkTrigger
from tengr_provider.version_compat import AirflowException

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.0
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

ART = "9b1c"
RESULT_URL = "https://cdn.example/9b1c_0.png"
PHOTO_ARGS = {
    "image_url": "https://img.example/shoe.png",
    "image_guidance": 1,
    "modification": 3,
    "creativity": 2,
    "effort": 4,
}
STYLE_ARGS = {
    "visual_prompt": "neon",
    "anchor_image_url": "https://img.example/a.png",
    "description": "a shoe",
}
DURABLE = pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="the task state store arrived in Airflow 3.3")


def artwork(status: str, artwork_id: str = ART) -> Artwork:
    results = [RESULT_URL] if status in ("succeeded", "done") else []
    return Artwork.model_validate({"id": artwork_id, "status": status, "results": results})


def with_hook(operator: Any) -> mock.MagicMock:
    hook = mock.create_autospec(TengrHook, instance=True)
    operator.__dict__["hook"] = hook
    return hook


def photo_pilot(**kwargs: Any) -> TengrPhotoPilotOperator:
    return TengrPhotoPilotOperator(task_id="restyle", **{**PHOTO_ARGS, **kwargs})


def test_waits_on_the_worker_and_returns_api_json() -> None:
    operator = photo_pilot(poll_interval=3, timeout=60)
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.return_value = artwork("succeeded")
    context = task_context()
    result = operator.execute(context)
    assert result["id"] == ART
    assert result["status"] == "succeeded"
    assert result["results"] == [RESULT_URL]
    assert "files" not in result
    hook.wait_for_artwork.assert_called_once_with(ART, 3, 60)
    assert context["ti"].xcoms[ARTWORK_ID_XCOM_KEY] == ART
    assert context["ti"].xcoms[RESULT_URL_XCOM_KEY] == [RESULT_URL]


def test_links_open_the_stored_files_when_output_path_is_set() -> None:
    """The API's URLs expire after 8 days; stored files a browser can open do not, so links open those."""
    operator = photo_pilot(poll_interval=3, timeout=60)
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.return_value = artwork("succeeded")
    stored = [f"https://files.example/out/{ART}_0.png"]
    copier = mock.Mock(copy_all=mock.Mock(return_value=stored))
    with mock.patch.object(type(operator), "_copier", return_value=copier):
        context = task_context()
        result = operator.execute(context)
    assert result["files"] == stored
    assert context["ti"].xcoms[RESULT_URL_XCOM_KEY] == stored


def test_sends_the_rendered_fields_as_a_validated_request() -> None:
    operator = photo_pilot(prompt="red", aspect_ratio="1:1", image_guidance="1", wait_for_completion=False)
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    operator.execute(task_context())
    (request,), _ = hook.create_photo_pilot.call_args
    assert request.to_api() == {
        "imageUrl": "https://img.example/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 2,
        "effort": 4,
        "prompt": "red",
        "aspectRatio": "1:1",
    }


def test_invalid_fields_fail_before_any_request() -> None:
    operator = photo_pilot(width=2048, height=2048)
    hook = with_hook(operator)
    with pytest.raises(TengrRequestValidationError, match=r"width: area 2048x2048=4194304 px exceeds"):
        operator.execute(task_context())
    hook.create_photo_pilot.assert_not_called()


def test_without_waiting_returns_the_created_artwork() -> None:
    operator = photo_pilot(wait_for_completion=False)
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    assert operator.execute(task_context())["status"] == "starting"
    hook.wait_for_artwork.assert_not_called()


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_failed_artwork_fails_the_task_naming_it(status: str) -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.side_effect = TengrArtworkFailedError(ART, status)
    context = task_context()
    with pytest.raises(TengrArtworkFailedError, match=f"{ART} ended with status '{status}'"):
        operator.execute(context)
    assert context["ti"].xcoms[ARTWORK_ID_XCOM_KEY] == ART  # pushed before the wait


def test_wait_timeout_fails_the_task_naming_the_artwork() -> None:
    operator = photo_pilot(timeout=5)
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.side_effect = TengrWaitTimeoutError(ART, 5, "processing")
    with pytest.raises(TengrWaitTimeoutError, match=ART):
        operator.execute(task_context())


def test_deferrable_hands_the_wait_to_the_trigger() -> None:
    operator = photo_pilot(deferrable=True, poll_interval=15, timeout=600, tengr_conn_id="tengr_prod")
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(task_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, TengrArtworkTrigger)
    assert (trigger.artwork_id, trigger.tengr_conn_id, trigger.poll_interval) == (ART, "tengr_prod", 15)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout.total_seconds() > 600
    hook.wait_for_artwork.assert_not_called()


def test_deferrable_does_not_defer_a_finished_artwork() -> None:
    operator = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png", deferrable=True)
    hook = with_hook(operator)
    hook.create_upscaling.return_value = artwork("done")
    assert operator.execute(task_context())["status"] == "done"


def test_upscaling_failed_at_once_fails_the_task() -> None:
    operator = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png", scale_factor=4)
    hook = with_hook(operator)
    hook.create_upscaling.return_value = artwork("failed")
    with pytest.raises(TengrArtworkFailedError, match="'failed'"):
        operator.execute(task_context())
    (request,), _ = hook.create_upscaling.call_args
    assert request.scale_factor == 4


def test_execute_complete_success_finishes_with_the_artwork() -> None:
    operator = photo_pilot(deferrable=True)
    context = task_context()
    result = operator.execute_complete(
        context, {"status": "success", "artwork": artwork("succeeded").to_api(), "message": "ok"}
    )
    assert result["results"] == [RESULT_URL]
    assert context["ti"].xcoms[RESULT_URL_XCOM_KEY] == [RESULT_URL]


@pytest.mark.parametrize(
    ("event", "error", "text"),
    [
        (
            {"status": "error", "artwork": artwork("failed").to_api(), "message": "m"},
            TengrArtworkFailedError,
            f"{ART} ended with status 'failed'",
        ),
        (
            {
                "status": "error",
                "artwork": {"id": ART},
                "message": f"waiting for tengr.ai artwork {ART} failed: 404",
            },
            AirflowException,
            f"artwork {ART} failed: 404",
        ),
        (
            {"status": "timeout", "artwork": artwork("processing").to_api(), "message": "m"},
            TengrWaitTimeoutError,
            f"{ART} still 'processing'",
        ),
        ({"status": "weird"}, AirflowException, "unexpected event"),
        (None, AirflowException, "unexpected event"),
    ],
)
def test_execute_complete_failures_name_the_artwork(event: Any, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        photo_pilot(deferrable=True).execute_complete(task_context(), event)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"poll_interval": 0}, "poll_interval: must be > 0"),
        ({"timeout": -1}, "timeout: must be >= 0"),
        (
            {"output_path": "file:///tmp/x", "wait_for_completion": False},
            "output_path: needs wait_for_completion",
        ),
    ],
)
def test_bad_operator_arguments_fail_at_dag_parse(kwargs: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        photo_pilot(**kwargs)


def test_deferrable_defaults_to_the_airflow_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert photo_pilot().deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert photo_pilot().deferrable is False


def test_every_request_field_is_templated() -> None:
    for operator_class in (TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator):
        assert set(operator_class.request_fields) <= set(operator_class.template_fields)
        assert set(operator_class.request_fields) == set(operator_class.request_model.model_fields)
        assert {"tengr_conn_id", "output_path"} <= set(operator_class.template_fields)


def test_style_dna_returns_the_expiring_image() -> None:
    operator = TengrStyleDnaOperator(task_id="style", **STYLE_ARGS, image_format="webp")
    hook = with_hook(operator)
    hook.submit_style_dna.return_value = StyleDnaImage.model_validate(
        {"imageUrl": "https://cdn.example/s.webp", "expiresAt": "2099-01-01T00:00:00Z", "creditsUsed": 2}
    )
    context = task_context()
    assert operator.execute(context) == {
        "imageUrl": "https://cdn.example/s.webp",
        "expiresAt": "2099-01-01T00:00:00Z",
        "creditsUsed": 2.0,
        "artworkId": None,
    }
    assert context["ti"].xcoms[RESULT_URL_XCOM_KEY] == ["https://cdn.example/s.webp"]


@DURABLE
def test_retry_reconnects_to_the_running_artwork_instead_of_creating() -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    hook.get_artwork.return_value = artwork("processing")
    hook.wait_for_artwork.return_value = artwork("succeeded")
    store = FakeTaskStateStore({"tengr_artwork_id": ART})
    context = task_context(store)
    assert operator.execute(context)["status"] == "succeeded"
    hook.create_photo_pilot.assert_not_called()
    hook.wait_for_artwork.assert_called_once()
    assert context["ti"].xcoms[ARTWORK_ID_XCOM_KEY] == ART


@DURABLE
def test_retry_after_success_collects_without_creating_or_waiting() -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    hook.get_artwork.return_value = artwork("succeeded")
    assert (
        operator.execute(task_context(FakeTaskStateStore({"tengr_artwork_id": ART})))["status"] == "succeeded"
    )
    hook.create_photo_pilot.assert_not_called()
    hook.wait_for_artwork.assert_not_called()


@DURABLE
def test_retry_of_a_deferrable_task_defers_on_the_stored_artwork() -> None:
    operator = photo_pilot(deferrable=True)
    hook = with_hook(operator)
    hook.get_artwork.return_value = artwork("processing")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(task_context(FakeTaskStateStore({"tengr_artwork_id": ART})))
    assert deferred.value.trigger.artwork_id == ART
    hook.create_photo_pilot.assert_not_called()


@DURABLE
@pytest.mark.parametrize("stored_outcome", ["failed", "not_found"])
def test_retry_after_failure_or_expiry_creates_a_new_artwork(stored_outcome: str) -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    if stored_outcome == "failed":
        hook.get_artwork.return_value = artwork("failed", "old")
    else:
        hook.get_artwork.side_effect = TengrNotFoundError(404, "gone", method="GET", path="/v1/artworks/old")
    hook.create_photo_pilot.return_value = artwork("starting", "new")
    hook.wait_for_artwork.return_value = artwork("succeeded", "new")
    store = FakeTaskStateStore({"tengr_artwork_id": "old"})
    assert operator.execute(task_context(store))["id"] == "new"
    assert store["tengr_artwork_id"] == "new"


@DURABLE
def test_created_artwork_id_is_stored_before_waiting() -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    store = FakeTaskStateStore()
    hook.create_photo_pilot.return_value = artwork("starting")

    def wait(*args: Any) -> Artwork:
        assert store.get("tengr_artwork_id") == ART, "the id must be stored before the wait starts"
        raise TengrWaitTimeoutError(ART, 1, "processing")

    hook.wait_for_artwork.side_effect = wait
    with pytest.raises(TengrWaitTimeoutError):
        operator.execute(task_context(store))


def style_dna_image(url: str, expires_at: str = "2099-01-01T00:00:00Z") -> StyleDnaImage:
    """A V1 style-dna answer."""
    return StyleDnaImage.model_validate({"imageUrl": url, "expiresAt": expires_at, "creditsUsed": 1})


def style_dna_try(store: FakeTaskStateStore, answer: StyleDnaImage | Artwork) -> tuple[dict[str, Any], Any]:
    """One try of a style-dna task sharing ``store`` with the others: its result and its hook."""
    operator = TengrStyleDnaOperator(task_id="style", **STYLE_ARGS)
    hook = with_hook(operator)
    hook.submit_style_dna.return_value = answer
    hook.get_artwork.return_value = answer
    hook.wait_for_artwork.return_value = answer
    return operator.execute(task_context(store)), hook


@DURABLE
def test_style_dna_retry_reuses_an_unexpired_image() -> None:
    store = FakeTaskStateStore()
    first, _ = style_dna_try(store, style_dna_image("https://cdn.example/s.png"))
    again, hook = style_dna_try(store, style_dna_image("https://cdn.example/new.png"))
    assert first["imageUrl"] == again["imageUrl"] == "https://cdn.example/s.png"
    assert again["artworkId"] is None  # V1 makes no artwork
    hook.submit_style_dna.assert_not_called()
    hook.get_artwork.assert_not_called()  # V1's answer carries its image: nothing to read


@DURABLE
def test_style_dna_retry_regenerates_an_expired_image() -> None:
    store = FakeTaskStateStore()
    style_dna_try(store, style_dna_image("https://cdn.example/old.png", expires_at="2001-01-01T00:00:00Z"))
    again, hook = style_dna_try(store, style_dna_image("https://cdn.example/new.png"))
    assert again["imageUrl"] == "https://cdn.example/new.png"
    hook.submit_style_dna.assert_called_once()


@DURABLE
def test_style_dna_retry_under_v2_reconnects_to_the_stored_artwork() -> None:
    store = FakeTaskStateStore()
    started = Artwork.model_validate({"id": "sd-1", "status": "starting", "results": []})
    finished = Artwork.model_validate({"id": "sd-1", "status": "succeeded", "results": [RESULT_URL]})
    first = TengrStyleDnaOperator(task_id="style", **STYLE_ARGS)
    first_hook = with_hook(first)
    first_hook.submit_style_dna.return_value = started
    first_hook.wait_for_artwork.side_effect = TengrWaitTimeoutError("sd-1", 1, "processing")
    with pytest.raises(TengrWaitTimeoutError):
        first.execute(task_context(store))

    again, hook = style_dna_try(store, finished)

    hook.submit_style_dna.assert_not_called()
    assert (again["artworkId"], again["imageUrl"]) == ("sd-1", RESULT_URL)


@DURABLE
def test_style_dna_stored_by_another_provider_version_asks_for_a_new_image() -> None:
    store = FakeTaskStateStore({"tengr_style_dna_image": {"imageUrl": "https://cdn.example/s.png"}})
    again, hook = style_dna_try(store, style_dna_image("https://cdn.example/new.png"))
    assert again["imageUrl"] == "https://cdn.example/new.png"
    hook.submit_style_dna.assert_called_once()


@pytest.mark.skipif(HAS_TASK_STATE_STORE, reason="the fallback only applies below Airflow 3.3")
def test_below_airflow_3_3_every_try_creates() -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.return_value = artwork("succeeded")
    operator.execute(task_context(FakeTaskStateStore({"tengr_artwork_id": "old"})))
    hook.create_photo_pilot.assert_called_once()


def test_unusable_output_path_fails_before_any_credit_is_spent() -> None:
    operator = photo_pilot(output_path="nosuch://bucket/images")
    hook = with_hook(operator)
    with pytest.raises(ValueError, match=r"output_path: cannot open 'nosuch://bucket/images'"):
        operator.execute(task_context())
    hook.create_photo_pilot.assert_not_called()


def test_result_link_key_exists_even_when_the_try_fails_early() -> None:
    operator = photo_pilot(width=4000, height=4000)
    with_hook(operator)
    context = task_context()
    with pytest.raises(TengrRequestValidationError):
        operator.execute(context)
    assert context["ti"].xcoms[RESULT_URL_XCOM_KEY] == []


def test_a_try_validates_its_request_once_and_says_each_warning_once(
    tengr_connection: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The create, the asset event and OpenLineage's start and complete all read the request of the try.
    from tengr_provider.operators import _base
    from tengr_provider.version_compat import Asset

    caplog.set_level(logging.DEBUG)
    accessors = pytest.importorskip("airflow.sdk.execution_time.context").OutletEventAccessors
    pytest.importorskip("airflow.providers.openlineage")
    validated: list[object] = []
    validate = _base.parse_request
    monkeypatch.setattr(_base, "parse_request", lambda *args: validated.append(args) or validate(*args))
    operator = photo_pilot(
        prompt="word " * 257, image_guidance=3, width=1024, height=1024, outlets=[Asset("tengr://restyled")]
    )
    done = {**artwork("succeeded").to_api(), "artworkType": "photo_pilot"}
    with responses.RequestsMock() as api:
        api.post(f"{BASE_URL}/v1/artworks/photo-pilot", json=done, status=202)
        operator.get_openlineage_facets_on_start()
        operator.execute({**task_context(), "outlet_events": accessors()})
        operator.get_openlineage_facets_on_complete(None)

    assert len(validated) == 1
    # Airflow 3.0 logs through the standard library (caplog), 3.1+ through structlog (stdout/stderr);
    # either way each warning is said once.
    printed = "".join(capfd.readouterr())
    for warning in ("prompt has 257 words", "width, height only apply when image_guidance is LOW"):
        assert max(caplog.text.count(warning), printed.count(warning)) == 1
