"""TengrAsyncHook against a mocked aiohttp layer (``aioresponses``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses
from tests.helpers import BASE_URL, SECRET_KEY

from tengr_provider.exceptions import (
    TengrAuthError,
    TengrConnectionError,
    TengrNotFoundError,
    TengrRateLimitError,
    TengrServerError,
)
from tengr_provider.hooks import _shared_connector
from tengr_provider.hooks.tengr import TengrAsyncHook
from tengr_provider.models import ArtworkStatus

ARTWORK_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ARTWORK_URL = f"{BASE_URL}/v1/artworks/{ARTWORK_ID}"


def artwork(status: str) -> dict[str, object]:
    return {"id": ARTWORK_ID, "status": status, "results": [], "artworkType": "photo_pilot"}


class AsyncSleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
def sleeps() -> AsyncSleeps:
    return AsyncSleeps()


@pytest.fixture
async def hook(tengr_connection: str, sleeps: AsyncSleeps) -> AsyncIterator[TengrAsyncHook]:
    async with TengrAsyncHook(tengr_connection, max_retries=2, backoff_initial=0.25) as hook:
        hook._sleep = sleeps  # type: ignore[method-assign]
        yield hook


def requests_made(mocked: aioresponses) -> list[tuple[str, object]]:
    return [(method, url) for (method, url), calls in mocked.requests.items() for _ in calls]


async def test_reads_the_connection_with_the_async_api(hook: TengrAsyncHook) -> None:
    settings = await hook.get_settings()
    assert settings.base_url == BASE_URL
    assert settings.timeout == 60.0


async def test_get_artwork_sends_bearer_key(hook: TengrAsyncHook, mocked: aioresponses) -> None:
    mocked.get(ARTWORK_URL, payload=artwork("processing"))
    result = await hook.get_artwork(ARTWORK_ID)
    assert result.status is ArtworkStatus.PROCESSING
    (call,) = next(iter(mocked.requests.values()))
    session_headers = hook._session.headers if hook._session else {}
    assert session_headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert call.kwargs["json"] is None


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_transient_status_is_retried(
    hook: TengrAsyncHook, mocked: aioresponses, sleeps: AsyncSleeps, status: int
) -> None:
    mocked.get(ARTWORK_URL, status=status, payload={"message": "later", "statusCode": status})
    mocked.get(ARTWORK_URL, payload=artwork("succeeded"))
    assert (await hook.get_artwork(ARTWORK_ID)).status is ArtworkStatus.SUCCEEDED
    assert len(sleeps) == 1


async def test_retry_after_is_honoured(
    hook: TengrAsyncHook, mocked: aioresponses, sleeps: AsyncSleeps
) -> None:
    mocked.get(ARTWORK_URL, status=429, payload={"message": "slow"}, headers={"Retry-After": "9"})
    mocked.get(ARTWORK_URL, payload=artwork("starting"))
    await hook.get_artwork(ARTWORK_ID)
    assert len(sleeps) == 1
    assert 9.0 <= sleeps[0] <= 13.5


async def test_a_retry_after_past_the_patience_ends_the_call_at_once(
    tengr_connection: str, mocked: aioresponses, sleeps: AsyncSleeps
) -> None:
    mocked.get(ARTWORK_URL, status=429, payload={"message": "slow"}, headers={"Retry-After": "1200"})
    async with TengrAsyncHook(tengr_connection, rate_limit_timeout=1) as hook:
        hook._sleep = sleeps  # type: ignore[method-assign]
        with pytest.raises(TengrRateLimitError, match="HTTP 429") as raised:
            await hook.get_artwork(ARTWORK_ID)
    assert (sleeps, len(requests_made(mocked)), raised.value.retry_after) == ([], 1, 1200.0)


async def test_retries_exhausted_raise_server_error(hook: TengrAsyncHook, mocked: aioresponses) -> None:
    mocked.get(re.compile(r".*/v1/artworks/.*"), status=503, payload={"message": "down"}, repeat=True)
    with pytest.raises(TengrServerError, match="HTTP 503"):
        await hook.get_artwork(ARTWORK_ID)
    assert len(requests_made(mocked)) == 3


@pytest.mark.parametrize(("status", "error"), [(401, TengrAuthError), (404, TengrNotFoundError)])
async def test_client_errors_are_not_retried(
    hook: TengrAsyncHook, mocked: aioresponses, status: int, error: type[Exception]
) -> None:
    mocked.get(ARTWORK_URL, status=status, payload={"message": "nope", "statusCode": status}, repeat=True)
    with pytest.raises(error, match=ARTWORK_ID if status == 404 else "check the API key"):
        await hook.get_artwork(ARTWORK_ID)
    assert len(requests_made(mocked)) == 1


async def test_dropped_connection_is_retried(hook: TengrAsyncHook, mocked: aioresponses) -> None:
    mocked.get(ARTWORK_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.get(ARTWORK_URL, payload=artwork("done"))
    assert (await hook.get_artwork(ARTWORK_ID)).status is ArtworkStatus.DONE


async def test_timeout_is_retried_then_reported(hook: TengrAsyncHook, mocked: aioresponses) -> None:
    mocked.get(ARTWORK_URL, exception=TimeoutError(), repeat=True)
    with pytest.raises(TengrConnectionError, match="no answer"):
        await hook.get_artwork(ARTWORK_ID)
    assert len(requests_made(mocked)) == 3


async def test_key_echoed_by_server_is_redacted(hook: TengrAsyncHook, mocked: aioresponses) -> None:
    mocked.get(ARTWORK_URL, status=404, payload={"message": f"no artwork for {SECRET_KEY}"})
    with pytest.raises(TengrNotFoundError) as info:
        await hook.get_artwork(ARTWORK_ID)
    assert SECRET_KEY not in str(info.value)


async def test_close_releases_the_session(tengr_connection: str, mocked: aioresponses) -> None:
    mocked.get(ARTWORK_URL, payload=artwork("done"))
    hook = TengrAsyncHook(tengr_connection)
    await hook.get_artwork(ARTWORK_ID)
    session = hook._session
    assert session is not None
    await hook.close()
    assert session.closed
    assert repr(hook) == "TengrAsyncHook(tengr_conn_id='tengr_default')"


async def test_hooks_on_one_loop_share_one_connection_pool(
    tengr_connection: str, mocked: aioresponses
) -> None:
    mocked.get(ARTWORK_URL, payload=artwork("done"), repeat=True)
    first, second = TengrAsyncHook(tengr_connection), TengrAsyncHook(tengr_connection)
    await first.get_artwork(ARTWORK_ID)
    await second.get_artwork(ARTWORK_ID)
    assert first._session is not None
    assert second._session is not None
    pool = first._session.connector
    assert pool is second._session.connector
    assert _shared_connector.users_on_running_loop() == 2
    await first.close()
    assert pool is not None
    assert not pool.closed
    await second.close()
    assert pool.closed
    assert _shared_connector.users_on_running_loop() == 0


async def test_a_session_closed_from_outside_gives_its_pool_share_back(
    tengr_connection: str, mocked: aioresponses
) -> None:
    mocked.get(ARTWORK_URL, payload=artwork("done"), repeat=True)
    hook = TengrAsyncHook(tengr_connection)
    await hook.get_artwork(ARTWORK_ID)
    assert hook._session is not None
    await hook._session.close()  # e.g. by code that borrowed the session

    await hook.get_artwork(ARTWORK_ID)

    assert _shared_connector.users_on_running_loop() == 1
    await hook.close()
    assert _shared_connector.users_on_running_loop() == 0
