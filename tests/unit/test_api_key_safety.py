"""The API key as pasted: surrounding whitespace dropped, control characters refused, never echoed."""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator

import pytest
import requests
import responses
from aioresponses import aioresponses
from tests.helpers import BASE_URL, SECRET_KEY

from tengr_provider.exceptions import TengrApiError, TengrAuthError
from tengr_provider.hooks._settings import KEY_FIELD
from tengr_provider.hooks.tengr import TengrAsyncHook, TengrHook

ARTWORK_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ARTWORK_URL = f"{BASE_URL}/v1/artworks/{ARTWORK_ID}"
ARTWORK = {"id": ARTWORK_ID, "status": "done", "results": [], "artworkType": "photo_pilot"}
#: The key split where a pasted key picked up a line break; neither half may show in any message.
HALVES = (SECRET_KEY[:12], SECRET_KEY[12:])


def use_password(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    connection = {"conn_type": "tengr", "host": BASE_URL, "password": password}
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", json.dumps(connection))


def everything_said(error: BaseException) -> str:
    """The error's text, repr and whole traceback with its chained causes and contexts."""
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.mark.parametrize("password", [f"{SECRET_KEY}\n", f"  {SECRET_KEY}\r\n", f"\t{SECRET_KEY} "])
def test_whitespace_around_a_pasted_key_is_dropped(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock, password: str
) -> None:
    use_password(monkeypatch, password)
    mocked.get(ARTWORK_URL, json=ARTWORK)

    TengrHook().get_artwork(ARTWORK_ID)

    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize("separator", ["\n", "\r\n", "\r", "\x00", "\t", "\x7f"])
def test_a_key_with_a_control_character_is_refused_naming_the_field_not_the_value(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock, separator: str
) -> None:
    use_password(monkeypatch, separator.join(HALVES))

    with pytest.raises(TengrAuthError, match=re.escape(f"the API key in {KEY_FIELD} contains")) as info:
        TengrHook().get_artwork(ARTWORK_ID)

    assert not mocked.calls  # refused before anything is sent
    said = everything_said(info.value)
    assert not [half for half in HALVES if half in said]


def test_test_connection_refuses_a_key_with_a_line_break_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_password(monkeypatch, "\n".join(HALVES))

    ok, message = TengrHook().test_connection()

    assert ok is False
    assert "password field" in message
    assert not [half for half in HALVES if half in message]


async def test_the_async_hook_strips_and_refuses_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    use_password(monkeypatch, f"{SECRET_KEY}\n")
    async with TengrAsyncHook() as hook:
        assert (await hook.get_settings()).api_key == SECRET_KEY

    use_password(monkeypatch, "\r\n".join(HALVES))
    async with TengrAsyncHook() as hook:
        with pytest.raises(TengrAuthError, match="password field") as info:
            await hook.get_artwork(ARTWORK_ID)
    assert not [half for half in HALVES if half in everything_said(info.value)]


@pytest.mark.parametrize(
    "raised",
    [
        requests.exceptions.InvalidHeader(f"Invalid return character in header value: 'Bearer {SECRET_KEY}'"),
        RuntimeError(f"some library failed with headers {{'Authorization': 'Bearer {SECRET_KEY}'}}"),
        ValueError(f"escaped: {SECRET_KEY!r}"),
    ],
    ids=["requests-invalid-header", "any-exception", "escaped-key"],
)
def test_any_library_error_of_the_sync_hook_is_redacted_and_not_chained(
    monkeypatch: pytest.MonkeyPatch, tengr_connection: str, raised: Exception
) -> None:
    hook = TengrHook(tengr_connection)

    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(hook.get_conn(), "request", fail)

    with pytest.raises(TengrApiError, match="request could not be sent") as info:
        hook.get_artwork(ARTWORK_ID)
    assert SECRET_KEY not in everything_said(info.value)
    assert info.value.__context__ is None
    assert info.value.__cause__ is None
    ok, message = hook.test_connection()
    assert (ok, SECRET_KEY in message) == (False, False)


async def test_any_library_error_of_the_async_hook_is_redacted_and_not_chained(
    tengr_connection: str,
) -> None:
    with aioresponses() as mocked:
        mocked.get(ARTWORK_URL, exception=ValueError(f"Newline in header: 'Bearer {SECRET_KEY}'"))
        async with TengrAsyncHook(tengr_connection) as hook:
            with pytest.raises(TengrApiError, match="request could not be sent") as info:
                await hook.get_artwork(ARTWORK_ID)
    assert SECRET_KEY not in everything_said(info.value)
    assert info.value.__context__ is None
