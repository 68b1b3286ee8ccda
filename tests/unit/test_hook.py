"""TengrHook against a mocked HTTP layer (``responses``): wire format, errors, retries, secrets."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from tests.helpers import BASE_URL, SECRET_KEY, LogText, connection_env

from tengr_provider.exceptions import (
    TengrApiError,
    TengrArtworkFailedError,
    TengrAuthError,
    TengrBadRequestError,
    TengrConnectionError,
    TengrNotFoundError,
    TengrRateLimitError,
    TengrServerError,
    TengrWaitTimeoutError,
)
from tengr_provider.hooks._api import parse_retry_after
from tengr_provider.hooks._settings import KEY_FIELD
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.models import ArtworkStatus
from tengr_provider.request_errors import TengrRequestValidationError

ARTWORK_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PHOTO_URL = f"{BASE_URL}/v1/artworks/photo-pilot"
ARTWORK_URL = f"{BASE_URL}/v1/artworks/{ARTWORK_ID}"
PHOTO_REQUEST = {
    "image_url": "https://img.example/shoe.png",
    "image_guidance": 1,
    "modification": 3,
    "creativity": 2,
    "effort": 4,
}


def artwork(status: str = "starting", **extra: Any) -> dict[str, Any]:
    return {
        "id": ARTWORK_ID,
        "artworkType": "photo_pilot",
        "parameters": {},
        "duration": 0,
        "results": [],
        "status": status,
        "createdAt": "2026-11-29T10:00:00.000Z",
        **extra,
    }


def error_body(status: int, message: str | list[str], error: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "statusCode": status}
    if error:
        body["error"] = error
    return body


class Sleeps(list[float]):
    """Records the hook's sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def hook(tengr_connection: str, sleeps: Sleeps) -> TengrHook:
    hook = TengrHook(tengr_connection, max_retries=3, backoff_initial=0.5, backoff_max=4)
    hook._sleep = sleeps  # type: ignore[method-assign]
    return hook


def test_calls_carry_bearer_key_and_user_agent(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, json=artwork())
    hook.get_artwork(ARTWORK_ID)
    headers = mocked.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["User-Agent"].startswith("airflow-provider-tengr/")


def test_create_sends_camel_case_body_without_nulls(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.post(PHOTO_URL, json=artwork(), status=202)
    created = hook.create_photo_pilot({**PHOTO_REQUEST, "prompt": "a red shoe"})
    assert created.id == ARTWORK_ID
    assert created.status is ArtworkStatus.STARTING
    assert json.loads(mocked.calls[0].request.body) == {
        "imageUrl": "https://img.example/shoe.png",
        "imageGuidance": 1,
        "modification": 3,
        "creativity": 2,
        "effort": 4,
        "prompt": "a red shoe",
    }


def test_style_dna_returns_expiring_image(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{BASE_URL}/v1/style-dna/generate",
        status=201,
        json={
            "imageUrl": "https://cdn.example/i.webp",
            "expiresAt": "2026-11-29T11:00:00Z",
            "creditsUsed": 1,
        },
    )
    image = hook.generate_style_dna(
        {
            "visual_prompt": "neon",
            "anchor_image_url": "https://img.example/a.png",
            "description": "a shoe",
            "image_format": "webp",
        }
    )
    assert image.image_url == "https://cdn.example/i.webp"
    assert image.credits_used == 1
    assert json.loads(mocked.calls[0].request.body)["imageFormat"] == "webp"


def test_upscaling_returns_done_artwork(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{BASE_URL}/v1/artworks/upscaling",
        status=201,
        json=artwork("done", artworkType="upscaling", results=["https://cdn.example/u.png"]),
    )
    result = hook.create_upscaling({"image_url": "https://img.example/a.png", "scale_factor": 4})
    assert result.status is ArtworkStatus.DONE
    assert json.loads(mocked.calls[0].request.body) == {
        "imageUrl": "https://img.example/a.png",
        "scaleFactor": 4,
    }


@pytest.mark.parametrize(
    ("method", "request_"),
    [
        ("create_photo_pilot", {**PHOTO_REQUEST, "width": 2048, "height": 2048}),
        ("create_photo_pilot", {**PHOTO_REQUEST, "image_guidance": 7}),
        ("generate_style_dna", {"visual_prompt": "x", "anchor_image_url": "x", "description": "y"}),
        ("create_upscaling", {"image_url": "https://img.example/a.png", "scale_factor": 12}),
    ],
)
def test_invalid_request_raises_before_any_http_call(
    hook: TengrHook, mocked: responses.RequestsMock, method: str, request_: dict[str, Any]
) -> None:
    with pytest.raises(TengrRequestValidationError):
        getattr(hook, method)(request_)
    assert len(mocked.calls) == 0


def test_list_artworks_reads_array(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/artworks", json=[artwork("done"), artwork("failed")])
    listed = hook.list_artworks(offset=5, limit=2)
    assert [a.status.value for a in listed] == ["done", "failed"]
    assert mocked.calls[0].request.url.endswith("/v1/artworks?offset=5&limit=2")


def test_list_artworks_reads_page_object(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/artworks", json={"data": [artwork("done")], "total": 1})
    assert len(hook.list_artworks()) == 1


@pytest.mark.parametrize(
    ("offset", "limit", "rule"), [(-1, 10, "offset"), (0, 0, "limit"), (0, 501, "limit")]
)
def test_list_artworks_checks_paging(hook: TengrHook, offset: int, limit: int, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        hook.list_artworks(offset=offset, limit=limit)


@pytest.mark.parametrize("artwork_id", ["", "   "])
def test_empty_artwork_id_is_refused(hook: TengrHook, artwork_id: str) -> None:
    with pytest.raises(ValueError, match="artwork_id: must be a non-empty string"):
        hook.get_artwork(artwork_id)


@pytest.mark.parametrize("artwork_id", ["None", "null", " undefined "])
def test_a_rendered_missing_value_is_not_an_artwork_id(
    hook: TengrHook, mocked: responses.RequestsMock, artwork_id: str
) -> None:
    with pytest.raises(ValueError, match=r"artwork_id: must be an artwork id, got .* missing value"):
        hook.get_artwork(artwork_id)
    assert len(mocked.calls) == 0


def test_artwork_id_is_escaped_in_the_path(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/artworks/a%2Fb", json=artwork())
    hook.get_artwork("a/b")
    assert mocked.calls[0].request.path_url == "/v1/artworks/a%2Fb"


def test_400_fails_at_once_with_the_api_message_list(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.post(
        PHOTO_URL,
        status=400,
        json=error_body(400, ["imageUrl must be a URL", "effort too big"], "Bad Request"),
    )
    with pytest.raises(TengrBadRequestError) as info:
        hook.create_photo_pilot(PHOTO_REQUEST)
    assert info.value.status_code == 400
    assert info.value.message == ["imageUrl must be a URL", "effort too big"]
    assert "imageUrl must be a URL; effort too big" in str(info.value)
    assert "POST /v1/artworks/photo-pilot" in str(info.value)
    assert len(mocked.calls) == 1


def test_401_explains_what_to_check(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, status=401, json=error_body(401, "Unauthorized"))
    with pytest.raises(TengrAuthError, match=re.escape(f"check the API key in {KEY_FIELD}")):
        hook.get_artwork(ARTWORK_ID)
    assert len(mocked.calls) == 1


def test_403_explains_scope_and_credits(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.post(PHOTO_URL, status=403, json=error_body(403, "Insufficient credits", "Forbidden"))
    with pytest.raises(TengrAuthError) as info:
        hook.create_photo_pilot(PHOTO_REQUEST)
    assert "Insufficient credits" in str(info.value)
    assert "scope or domain" in str(info.value)
    assert len(mocked.calls) == 1


def test_404_names_the_artwork_and_is_not_retried(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, status=404, json=error_body(404, "Artwork not found", "Not Found"))
    with pytest.raises(TengrNotFoundError, match=ARTWORK_ID):
        hook.get_artwork(ARTWORK_ID)
    assert len(mocked.calls) == 1


def test_error_without_json_body_keeps_the_text(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, status=400, body="<html>bad gateway config</html>")
    with pytest.raises(TengrBadRequestError, match="bad gateway config"):
        hook.get_artwork(ARTWORK_ID)


def test_2xx_that_is_not_json_is_an_api_error(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, status=200, body="<html>")
    with pytest.raises(TengrApiError, match="not JSON"):
        hook.get_artwork(ARTWORK_ID)


def test_2xx_with_wrong_shape_is_an_api_error(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, status=200, json={"hello": "world"})
    with pytest.raises(TengrApiError, match="not a Artwork"):
        hook.get_artwork(ARTWORK_ID)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_status_is_retried_until_success(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps, status: int
) -> None:
    mocked.get(ARTWORK_URL, status=status, json=error_body(status, "try later"))
    mocked.get(ARTWORK_URL, status=status, json=error_body(status, "try later"))
    mocked.get(ARTWORK_URL, json=artwork("processing"))
    assert hook.get_artwork(ARTWORK_ID).status is ArtworkStatus.PROCESSING
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2


def test_backoff_grows_exponentially_with_jitter(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    for _ in range(4):
        mocked.get(ARTWORK_URL, status=503, json=error_body(503, "busy"))
    with pytest.raises(TengrServerError):
        hook.get_artwork(ARTWORK_ID)
    # initial 0.5 s doubling, plus up to 0.5 s of jitter each, capped at backoff_max=4.
    assert [0.5, 1.0, 2.0] <= sleeps <= [1.0, 1.5, 2.5] or all(
        low <= s <= high for s, (low, high) in zip(sleeps, [(0.5, 1.0), (1.0, 1.5), (2.0, 2.5)], strict=True)
    )
    assert all(s <= 4 for s in sleeps)


def test_retry_after_seconds_is_honoured(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.get(ARTWORK_URL, status=429, json=error_body(429, "slow down"), headers={"Retry-After": "7"})
    mocked.get(ARTWORK_URL, json=artwork())
    hook.get_artwork(ARTWORK_ID)
    assert len(sleeps) == 1
    assert 7.0 <= sleeps[0] <= 10.5  # Retry-After, plus up to half again of jitter


def test_retry_after_http_date_is_honoured(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    mocked.get(ARTWORK_URL, status=503, json=error_body(503, "maintenance"), headers={"Retry-After": when})
    mocked.get(ARTWORK_URL, json=artwork())
    hook.get_artwork(ARTWORK_ID)
    assert 28 <= sleeps[0] <= 46


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("1.5", 1.5),
        ("99999", 99999.0),  # as sent: the cap is the budget of whoever waits
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retries_exhausted_raise_the_last_error(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.get(ARTWORK_URL, status=503, json=error_body(503, "Service Unavailable"))
    with pytest.raises(TengrServerError, match="HTTP 503"):
        hook.get_artwork(ARTWORK_ID)
    assert len(mocked.calls) == 4  # the first try and max_retries=3
    assert len(sleeps) == 3


def test_rate_limits_do_not_count_against_max_retries(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    for _ in range(10):
        mocked.get(
            ARTWORK_URL, status=429, json=error_body(429, "Too Many Requests"), headers={"Retry-After": "1"}
        )
    mocked.get(ARTWORK_URL, json=artwork())
    assert hook.get_artwork(ARTWORK_ID).id == ARTWORK_ID
    assert len(mocked.calls) == 11  # far more than max_retries=3: a 429 means nothing was done


def test_rate_limit_retries_stop_before_a_wait_past_the_patience(
    tengr_connection: str, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    hook = TengrHook(tengr_connection, max_retries=3, rate_limit_timeout=30)
    hook._sleep = sleeps  # type: ignore[method-assign]
    mocked.get(
        ARTWORK_URL, status=429, json=error_body(429, "Too Many Requests"), headers={"Retry-After": "4"}
    )
    with pytest.raises(TengrRateLimitError, match="HTTP 429") as raised:
        hook.get_artwork(ARTWORK_ID)
    assert all(s >= 4 for s in sleeps)  # never sooner than the server asked
    assert sum(sleeps) <= 30  # never longer than rate_limit_timeout
    assert sum(sleeps) + 4 > 30  # and it waited as long as the budget allowed
    assert len(mocked.calls) == len(sleeps) + 1
    assert raised.value.retry_after == 4.0


@pytest.mark.parametrize(("status", "error"), [(429, TengrRateLimitError), (503, TengrServerError)])
def test_a_retry_after_past_the_patience_ends_the_call_at_once(
    tengr_connection: str,
    mocked: responses.RequestsMock,
    sleeps: Sleeps,
    logs: LogText,
    status: int,
    error: type[TengrApiError],
) -> None:
    # A new user's first rate limit: one call must not sleep 20 minutes against a 1-s patience, nor cut
    # the wait short and ask again early; it ends now, with the server's wait for the task's retry policy.
    hook = TengrHook(tengr_connection, max_retries=3, rate_limit_timeout=1)
    hook._sleep = sleeps  # type: ignore[method-assign]
    mocked.get(ARTWORK_URL, status=status, json=error_body(status, "later"), headers={"Retry-After": "1200"})

    with pytest.raises(error, match=f"HTTP {status}") as raised:
        hook.get_artwork(ARTWORK_ID)

    assert (sleeps, len(mocked.calls), raised.value.retry_after) == ([], 1, 1200.0)
    assert "would pass rate_limit_timeout (1 s): giving up now" in logs()


def test_retries_are_logged(hook: TengrHook, mocked: responses.RequestsMock, logs: LogText) -> None:
    mocked.get(ARTWORK_URL, status=502, json=error_body(502, "Bad Gateway"))
    mocked.get(ARTWORK_URL, json=artwork())
    hook.get_artwork(ARTWORK_ID)
    assert "GET /v1/artworks/" in logs()
    assert "failure 1 of at most 4" in logs()


def test_connection_error_is_retried(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, body=requests.ConnectionError("connection reset"))
    mocked.get(ARTWORK_URL, json=artwork())
    assert hook.get_artwork(ARTWORK_ID).id == ARTWORK_ID
    assert len(mocked.calls) == 2


def test_read_timeout_on_get_is_retried(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, body=requests.ReadTimeout("read timed out"))
    mocked.get(ARTWORK_URL, json=artwork())
    assert hook.get_artwork(ARTWORK_ID).id == ARTWORK_ID


def test_persistent_connection_failure_raises_connection_error(
    hook: TengrHook, mocked: responses.RequestsMock
) -> None:
    mocked.get(ARTWORK_URL, body=requests.ConnectionError("connection refused"))
    with pytest.raises(TengrConnectionError, match="no answer"):
        hook.get_artwork(ARTWORK_ID)
    assert len(mocked.calls) == 4


def test_every_call_has_the_connection_timeout(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock
) -> None:
    monkeypatch.setenv(*connection_env(extra={"timeout": 12.5}))
    seen: list[Any] = []
    original = requests.Session.request

    def spy(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
        seen.append(kwargs.get("timeout"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    mocked.get(ARTWORK_URL, json=artwork())
    mocked.post(PHOTO_URL, json=artwork(), status=202)
    hook = TengrHook()
    hook.get_artwork(ARTWORK_ID)
    hook.create_photo_pilot(PHOTO_REQUEST)
    assert seen == [12.5, 12.5]


def test_create_after_5xx_is_retried_with_a_duplicate_warning(
    hook: TengrHook, mocked: responses.RequestsMock, logs: LogText
) -> None:
    mocked.post(PHOTO_URL, status=500, json=error_body(500, "Internal Server Error"))
    mocked.post(PHOTO_URL, status=202, json=artwork())
    hook.create_photo_pilot(PHOTO_REQUEST)
    assert len(mocked.calls) == 2
    assert "may already have created an artwork" in logs()


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "json": error_body(503, "Service Unavailable")},
        {"status": 504, "json": error_body(504, "Gateway Timeout")},
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError("Connection aborted.")},
    ],
)
def test_create_is_not_retried_after_ambiguous_failure_when_disabled(
    tengr_connection: str, mocked: responses.RequestsMock, sleeps: Sleeps, failure: dict[str, Any]
) -> None:
    hook = TengrHook(tengr_connection, retry_creates=False)
    hook._sleep = sleeps  # type: ignore[method-assign]
    mocked.post(PHOTO_URL, **failure)
    with pytest.raises(TengrApiError):
        hook.create_photo_pilot(PHOTO_REQUEST)
    assert len(mocked.calls) == 1


def test_create_is_retried_after_429_even_when_create_retries_are_disabled(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    monkeypatch.setenv(*connection_env(extra={"retry_creates": "false"}))
    hook = TengrHook()
    hook._sleep = sleeps  # type: ignore[method-assign]
    mocked.post(
        PHOTO_URL, status=429, json=error_body(429, "Too Many Requests"), headers={"Retry-After": "2"}
    )
    mocked.post(PHOTO_URL, status=202, json=artwork())
    hook.create_photo_pilot(PHOTO_REQUEST)
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 3.0


def test_create_is_retried_when_connection_never_opened_even_when_disabled(
    tengr_connection: str, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    hook = TengrHook(tengr_connection, retry_creates=False)
    hook._sleep = sleeps  # type: ignore[method-assign]
    mocked.post(PHOTO_URL, body=requests.ConnectTimeout("connect timed out"))
    mocked.post(PHOTO_URL, status=202, json=artwork())
    hook.create_photo_pilot(PHOTO_REQUEST)
    assert len(mocked.calls) == 2


def test_one_session_is_reused(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, json=artwork())
    session = hook.get_conn()
    hook.get_artwork(ARTWORK_ID)
    hook.get_artwork(ARTWORK_ID)
    assert hook.get_conn() is session
    hook.close()
    assert hook.get_conn() is not session


def test_wait_returns_the_succeeded_artwork(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.get(ARTWORK_URL, json=artwork("starting"))
    mocked.get(ARTWORK_URL, json=artwork("processing"))
    mocked.get(ARTWORK_URL, json=artwork("succeeded", results=["https://cdn.example/1.png"]))
    done = hook.wait_for_artwork(ARTWORK_ID, poll_interval=3, timeout=100)
    assert done.results == ["https://cdn.example/1.png"]
    assert sleeps == [3, 3]


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_wait_raises_on_failed_or_canceled(
    hook: TengrHook, mocked: responses.RequestsMock, status: str
) -> None:
    mocked.get(ARTWORK_URL, json=artwork(status))
    with pytest.raises(TengrArtworkFailedError, match=f"{ARTWORK_ID} ended with status '{status}'"):
        hook.wait_for_artwork(ARTWORK_ID)


def test_wait_times_out_naming_the_artwork(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, json=artwork("processing"))
    with pytest.raises(TengrWaitTimeoutError, match=f"{ARTWORK_ID} still 'processing' after waiting 0 s"):
        hook.wait_for_artwork(ARTWORK_ID, timeout=0)


def test_wait_never_sleeps_past_the_deadline(
    hook: TengrHook, mocked: responses.RequestsMock, sleeps: Sleeps
) -> None:
    mocked.get(ARTWORK_URL, json=artwork("processing"))
    clock = iter([100.0, 100.0, 108.0, 111.0])
    hook._monotonic = lambda: next(clock)  # type: ignore[method-assign]
    with pytest.raises(TengrWaitTimeoutError):
        hook.wait_for_artwork(ARTWORK_ID, poll_interval=5, timeout=10)
    assert sleeps == [5, 2.0]


@pytest.mark.parametrize(
    ("kwargs", "rule"), [({"poll_interval": 0}, "poll_interval"), ({"timeout": -1}, "timeout")]
)
def test_wait_checks_its_arguments(hook: TengrHook, kwargs: dict[str, float], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        hook.wait_for_artwork(ARTWORK_ID, **kwargs)


def test_test_connection_reports_success(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/artworks", json=[])
    assert hook.test_connection() == (
        True,
        f"Connected to {BASE_URL}; API v1 answered GET /v1/artworks and the API key was accepted",
    )
    assert mocked.calls[0].request.url.endswith("limit=1")


def test_test_connection_reports_failure_without_raising_or_retrying(
    hook: TengrHook, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE_URL}/v1/artworks", status=401, json=error_body(401, "Unauthorized"))
    ok, message = hook.test_connection()
    assert ok is False
    assert "HTTP 401" in message
    assert "check the API key" in message
    assert len([call for call in mocked.calls if "/v1/artworks" in call.request.url]) == 1


def test_test_connection_without_key_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", json.dumps({"conn_type": "tengr", "host": BASE_URL}))
    ok, message = TengrHook().test_connection()
    assert ok is False
    assert "has no API key" in message


def test_key_echoed_by_the_server_is_redacted(
    hook: TengrHook, mocked: responses.RequestsMock, logs: LogText
) -> None:
    mocked.get(ARTWORK_URL, status=503, json=error_body(503, f"bad token {SECRET_KEY}"))
    with pytest.raises(TengrServerError) as info:
        hook.get_artwork(ARTWORK_ID)
    assert SECRET_KEY not in str(info.value)
    assert SECRET_KEY not in repr(info.value.message)
    assert "bad token ***" in str(info.value)
    assert "bad token ***" in logs()
    assert SECRET_KEY not in logs()


def test_key_is_not_in_reprs(hook: TengrHook, mocked: responses.RequestsMock) -> None:
    mocked.get(ARTWORK_URL, json=artwork())
    hook.get_artwork(ARTWORK_ID)
    assert SECRET_KEY not in repr(hook)
    assert SECRET_KEY not in repr(hook.settings)
    assert SECRET_KEY not in str(vars(hook).get("settings"))


def test_errors_survive_pickling() -> None:
    import pickle

    error = TengrRateLimitError(429, ["slow"], "Too Many Requests", method="GET", path="/v1/artworks/x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is TengrRateLimitError
    assert str(copy) == str(error)
    assert copy.status_code == 429


def test_missing_key_error_does_not_pretend_the_server_was_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", json.dumps({"conn_type": "tengr", "host": BASE_URL}))
    with pytest.raises(TengrAuthError) as info:
        TengrHook().get_artwork(ARTWORK_ID)
    assert str(info.value).startswith("tengr.ai: connection 'tengr_default' has no API key")
    assert "no answer" not in str(info.value)


def test_pickling_keeps_what_retry_decisions_read() -> None:
    import pickle

    from tengr_provider.hooks._api import ApiCall, connection_error, error_from_response
    from tengr_provider.hooks._settings import ConnectionSettings

    call = ApiCall("POST", "/v1/artworks/photo-pilot", creates=True)
    settings = ConnectionSettings(base_url=BASE_URL, api_key=SECRET_KEY)
    limited = error_from_response(call, settings, 429, '{"message": "slow"}', "7")
    never_sent = connection_error(call, settings, OSError("refused"), may_have_arrived=False)

    limited_copy, never_sent_copy = pickle.loads(pickle.dumps((limited, never_sent)))

    assert (type(limited_copy), limited_copy.retry_after) == (TengrRateLimitError, 7.0)
    assert (type(never_sent_copy), never_sent_copy.may_have_arrived) == (TengrConnectionError, False)
    assert str(never_sent_copy) == str(never_sent)


@pytest.mark.parametrize("status", [501, 505])
def test_a_server_error_that_retrying_cannot_fix_fails_at_once(
    hook: TengrHook, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.get(ARTWORK_URL, status=status, json=error_body(status, "Not Implemented"))
    with pytest.raises(TengrServerError, match=f"HTTP {status}"):
        hook.get_artwork(ARTWORK_ID)
    assert len(mocked.calls) == 1
