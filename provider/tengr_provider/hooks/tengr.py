"""Hooks that talk to tengr.ai: :class:`TengrHook` for tasks, :class:`TengrAsyncHook` for triggers.

Both send the calls described in :mod:`tengr_provider.hooks._api` and differ only in transport:
``requests`` with one reused ``Session`` on the worker, ``aiohttp`` in the triggerer's event loop.
aiohttp rather than httpx because it is what Airflow's own async hooks (http, databricks, dbt Cloud)
use, so it is always installed with Airflow 3, and because ``aioresponses`` lets tests mock it. It is
imported with this module, never inside a coroutine: the triggerer loads trigger classes before it runs
them, while an import on first use would block its event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

import aiohttp
import requests
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, Retrying
from urllib3.exceptions import NewConnectionError

from tengr_provider import CONNECTION_TYPE, DEFAULT_CONN_ID, get_provider_info
from tengr_provider.api_paths import API_VERSIONS
from tengr_provider.endpoints import SYNCHRONOUS_IN_V1, endpoint_route
from tengr_provider.exceptions import (
    TRANSIENT_ERRORS,
    TengrApiError,
    TengrArtworkFailedError,
    TengrWaitTimeoutError,
)
from tengr_provider.hooks import _shared_connector
from tengr_provider.hooks._api import (
    ApiCall,
    check_webhook,
    connection_error,
    decode_answer,
    parse_response,
    retry_arguments,
    unexpected_error,
)
from tengr_provider.hooks._connection_form import form_widgets, ui_field_behaviour
from tengr_provider.hooks._settings import ConnectionSettings, settings_from_connection
from tengr_provider.models import (
    ARTWORK_RETENTION,
    LIST_LIMIT_MAX,
    ApiRequest,
    Artwork,
    PhotoPilotRequest,
    StyleDnaImage,
    StyleDnaRequest,
    UpscalingRequest,
    parse_request,
)
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.version_compat import BaseHook, get_async_connection, get_async_extra_dejson
from tengr_provider.waiting.policy import DEFAULT_WAIT_TIMEOUT, HOOK_POLL_INTERVAL, ArtworkWait

if TYPE_CHECKING:
    from tengr_provider.version_compat import Connection

_ModelT = TypeVar("_ModelT", bound=BaseModel)


#: What a 404 on an artwork read means: the id is unknown, or the API deleted the artwork.
_RETENTION_HINT = (
    "the artwork id is unknown, or the artwork was deleted after tengr.ai's "
    f"{ARTWORK_RETENTION.days}-day retention"
)
#: What a 404 on a create means: the route is not there under this API version.
_ROUTE_HINT = (
    "this API version has no such route: check the connection's api_version, or set the path in its "
    "api_paths extra (see docs/api-versions.md)"
)


def _artwork_call(settings: ConnectionSettings, artwork_id: str) -> ApiCall:
    if not isinstance(artwork_id, str) or not artwork_id.strip():
        raise ValueError(f"artwork_id: must be a non-empty string, got {artwork_id!r}")
    if artwork_id.strip() in ("None", "null", "undefined"):
        # What a template renders from a missing XCom; asking the API would only answer 404.
        raise ValueError(
            f"artwork_id: must be an artwork id, got {artwork_id!r} (a template that rendered a "
            "missing value? check the upstream task's return value)"
        )
    path = settings.path("artwork", id=quote(artwork_id.strip(), safe=""))
    return ApiCall("GET", path, not_found_hint=_RETENTION_HINT)


def _list_call(settings: ConnectionSettings, offset: int, limit: int) -> ApiCall:
    if offset < 0:
        raise ValueError(f"offset: must be >= 0, got {offset}")
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise ValueError(f"limit: must be between 1 and {LIST_LIMIT_MAX}, got {limit}")
    return ApiCall("GET", settings.path("artworks"), params={"offset": offset, "limit": limit})


def _create_call(settings: ConnectionSettings, name: str, body: dict[str, Any], **values: str) -> ApiCall:
    """A create (a POST that spends credits) of the table's call ``name``."""
    path = settings.path(name, **values)
    return ApiCall("POST", path, body=body, creates=True, not_found_hint=_ROUTE_HINT)


def _created_artwork(data: Any, call: ApiCall, logger: Any) -> Artwork:
    """The artwork a create answered with; its id is kept even when the rest cannot be read.

    The API has made the artwork and spent the credits by now: failing here would lose the id, and a
    retry would pay again. An answer that is not a valid artwork but carries an id keeps every field
    that can be read; the ones that cannot are dropped, a missing or unreadable status becomes
    ``unknown`` (in flight), and the wait reads the artwork again.
    """
    try:
        return Artwork.model_validate(data)
    except ValidationError as error:
        artwork_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(artwork_id, str) or not artwork_id:
            return parse_response(Artwork, data, call)  # no id to keep: the usual error
        unreadable = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        logger.warning(
            "%s answered artwork %s with fields this provider cannot read (%s); keeping its id and waiting",
            call.describe(),
            artwork_id,
            ", ".join(sorted(unreadable)),
        )
        readable = {key: value for key, value in data.items() if key not in unreadable}
        readable.setdefault("status", "unknown")
        try:
            return Artwork.model_validate(readable)
        except ValidationError:
            return Artwork(id=artwork_id, status="unknown")


def _artworks_from(data: Any, call: ApiCall) -> list[Artwork]:
    """The list endpoint's items, whether it answers with an array or a page object."""
    if isinstance(data, dict):
        data = next((data[key] for key in ("data", "items", "artworks") if key in data), data)
    if not isinstance(data, list):
        raise TengrApiError(None, "unexpected answer, not a list of artworks", method="GET", path=call.path)
    return [parse_response(Artwork, item, call) for item in data]


def routes_of(answer: Any) -> list[str]:
    """The routes ``GET /`` lists (``routes``), each as text, whatever shape an entry has."""
    routes = answer.get("routes") if isinstance(answer, dict) else None
    if not isinstance(routes, list):
        return []
    return [route if isinstance(route, str) else json.dumps(route) for route in routes]


def versions_in_routes(answer: Any) -> list[str]:
    """The API versions whose paths ``GET /``'s route list names, in the table's order."""
    text = " ".join(routes_of(answer))
    return [version for version in API_VERSIONS if f"/{version}/" in text]


def _request_failure(call: ApiCall, settings: ConnectionSettings, exc: Exception) -> TengrApiError:
    """What a ``requests`` failure means: no answer (and whether the server may have acted), or other."""
    if isinstance(exc, requests.ConnectTimeout):
        return connection_error(call, settings, exc, may_have_arrived=False)
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        never_sent = isinstance(reason, NewConnectionError)
        return connection_error(call, settings, exc, may_have_arrived=not never_sent)
    if isinstance(exc, requests.Timeout):
        return connection_error(call, settings, exc, may_have_arrived=True)
    return unexpected_error(call, settings, exc)


def _async_request_failure(call: ApiCall, settings: ConnectionSettings, exc: Exception) -> TengrApiError:
    """What an ``aiohttp`` failure means, as :func:`_request_failure` for ``requests``."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return connection_error(call, settings, exc, may_have_arrived=False)
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)):
        return connection_error(call, settings, exc, may_have_arrived=True)
    return unexpected_error(call, settings, exc)


class _TengrHookBase(BaseHook):
    """Connection handling shared by the sync and the async hook.

    :param tengr_conn_id: the Airflow connection holding the API key (password) and base URL (host).
    :param timeout: seconds per HTTP call; overrides the connection's ``timeout`` extra (default 60).
    :param max_retries: retries of a retryable failure; overrides the ``max_retries`` extra (default 5).
    :param retry_creates: retry a create after a 5xx, timeout or dropped connection, at the risk of a
        duplicate artwork; overrides the ``retry_creates`` extra (default True).
    :param rate_limit_timeout: seconds one call may wait on the server (429s, ``Retry-After``); overrides
        the ``rate_limit_timeout`` extra (default 600).
    :param allow_insecure_webhooks: accept http webhooks and webhooks on private hosts; overrides the
        ``allow_insecure_webhooks`` extra (default False).
    :param backoff_initial: first backoff wait in seconds (doubles each retry, with jitter); overrides
        the ``backoff_initial`` extra (default 1).
    :param backoff_max: longest backoff wait in seconds (a server's ``Retry-After`` is honoured as sent);
        overrides the ``backoff_max`` extra (default 60).
    :param api_version: ``v1`` or ``v2``; overrides the ``api_version`` extra (default ``v1``).
    """

    conn_name_attr = "tengr_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONNECTION_TYPE
    hook_name = "tengr.ai"

    def __init__(
        self,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_creates: bool | None = None,
        rate_limit_timeout: float | None = None,
        allow_insecure_webhooks: bool | None = None,
        backoff_initial: float | None = None,
        backoff_max: float | None = None,
        api_version: str | None = None,
    ) -> None:
        super().__init__()
        self.tengr_conn_id = tengr_conn_id
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_creates": retry_creates,
            "rate_limit_timeout": rate_limit_timeout,
            "allow_insecure_webhooks": allow_insecure_webhooks,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
            "api_version": api_version,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tengr_conn_id={self.tengr_conn_id!r})"

    def _settings_from(self, conn: Connection, extras: dict[str, Any]) -> ConnectionSettings:
        return settings_from_connection(
            conn_id=self.tengr_conn_id,
            host=conn.host,
            schema=conn.schema,
            port=conn.port,
            password=conn.password,
            extras=extras,
            **self._overrides,
        )

    def _retry_arguments(self, call: ApiCall, settings: ConnectionSettings, max_retries: int | None) -> Any:
        return retry_arguments(call, settings, self.log, max_retries=max_retries)


class TengrHook(_TengrHookBase):
    """Call tengr.ai from a task: create artworks, read them, wait for them.

    One ``requests.Session`` per hook is reused for every call. Every call has a timeout; 429, 5xx
    and connection failures are retried with exponential backoff and jitter, honouring
    ``Retry-After``; 400, 401, 403 and 404 fail at once with
    :class:`~tengr_provider.exceptions.TengrApiError`. Requests are validated by
    :mod:`tengr_provider.models` before anything is sent.
    """

    #: How the hook sleeps between retries and polls, and reads the clock; tests replace them.
    _sleep: Callable[[float], None] = staticmethod(time.sleep)
    _monotonic: Callable[[], float] = staticmethod(time.monotonic)

    # Connection form for Airflow < 3.2 (which does not read ``conn-fields``), derived from the provider
    # info by :mod:`tengr_provider.hooks._connection_form`. Airflow looks for these two on the
    # registered hook class itself, not on a base class.
    _FORM: ClassVar[dict[str, Any]] = get_provider_info()["connection-types"][0]

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hide the fields tengr does not use and relabel the ones it does (Airflow < 3.2)."""
        return ui_field_behaviour(cls._FORM)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the connection form (Airflow < 3.2; needs wtforms, as those versions have)."""
        return form_widgets(cls._FORM)

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection, resolved once per hook."""
        conn = self.get_connection(self.tengr_conn_id)
        return self._settings_from(conn, conn.extra_dejson)

    def get_conn(self) -> requests.Session:
        """The hook's HTTP session, carrying the auth header."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.settings.headers())
        return session

    def close(self) -> None:
        """Close the session's pooled connections."""
        if "_session" in self.__dict__:
            self._session.close()
            del self.__dict__["_session"]

    def _send_once(self, call: ApiCall) -> Any:
        settings = self.settings
        failure: TengrApiError | None = None
        try:
            response = self._session.request(
                call.method,
                call.url(settings),
                json=call.body,
                params=call.params,
                timeout=settings.timeout,
            )
        except Exception as exc:
            failure = _request_failure(call, settings, exc)
        if failure is not None:
            # Raised outside the ``except``: the library's own error (which may quote the auth header)
            # is not kept as the context of ours, so no traceback can show it.
            raise failure
        return decode_answer(
            call, settings, response.status_code, response.text, response.headers.get("Retry-After")
        )

    def _call(self, call: ApiCall, *, max_retries: int | None = None) -> Any:
        retrying = Retrying(sleep=self._sleep, **self._retry_arguments(call, self.settings, max_retries))
        return retrying(self._send_once, call)

    def _check_webhook(self, request: ApiRequest, call_name: str) -> None:
        """The webhook rules of today, and V1's synchronous calls, which take no webhook."""
        check_webhook(request, self.settings)
        webhook = getattr(request, "webhook", None)
        if webhook is not None and self.settings.api_version == "v1" and call_name in SYNCHRONOUS_IN_V1:
            raise TengrRequestValidationError(
                type(request).__name__,
                [f"webhook: the V1 {call_name} call takes no webhook; set api_version to v2"],
            )

    def _checked_body(self, request: ApiRequest, call_name: str) -> dict[str, Any]:
        """The validated request as the API's JSON, once the connection's webhook rules allow it."""
        self._check_webhook(request, call_name)
        return request.to_api()

    def _given_body(self, request: ApiRequest | dict[str, Any]) -> dict[str, Any]:
        """The body of an endpoint without a model, as given, once the webhook rules allow it."""
        if not isinstance(request, (dict, ApiRequest)):
            raise TengrRequestValidationError(
                "request", [f"expected a dict (the JSON body), got {type(request).__name__}"]
            )
        body = dict(request) if isinstance(request, dict) else request.to_api()
        check_webhook(body, self.settings)
        return body

    def _create(self, name: str, request: ApiRequest, **values: str) -> tuple[ApiCall, Any]:
        """Send the table's create call ``name``; the call (for messages) and the API's answer.

        The request's warnings (what the API will truncate or ignore) are logged here, once per create.
        """
        call = _create_call(self.settings, name, self._checked_body(request, name), **values)
        for warning in request.warnings():
            self.log.warning("%s: %s", call.describe(), warning)
        return call, self._call(call)

    def create_photo_pilot(self, request: PhotoPilotRequest | dict[str, Any]) -> Artwork:
        """Start a photo-pilot (image-to-image) artwork; it finishes later, see :meth:`wait_for_artwork`.

        A ``webhook`` must be https on a public host unless the connection allows insecure webhooks.
        """
        call, answer = self._create("photo-pilot", parse_request(PhotoPilotRequest, request))
        return _created_artwork(answer, call, self.log)

    def submit_style_dna(self, request: StyleDnaRequest | dict[str, Any]) -> StyleDnaImage | Artwork:
        """Ask for an image in a Style DNA and return what the API answered.

        API V1 answers with the image (:class:`StyleDnaImage`); API V2 with an artwork to wait for, whose
        result :meth:`StyleDnaImage.from_artwork` reads. Either answer is accepted from either version.
        """
        call, data = self._create("style-dna", parse_request(StyleDnaRequest, request))
        if isinstance(data, dict) and "imageUrl" in data and "status" not in data:
            return parse_response(StyleDnaImage, data, call)
        return _created_artwork(data, call, self.log)

    def generate_style_dna(
        self,
        request: StyleDnaRequest | dict[str, Any],
        poll_interval: float = HOOK_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> StyleDnaImage:
        """Generate an image in a Style DNA; its URL expires at ``expires_at``, so copy it soon.

        Under API V2 the call is asynchronous: this waits for the artwork (``poll_interval``,
        ``timeout`` as in :meth:`wait_for_artwork`).
        """
        answer = self.submit_style_dna(request)
        if isinstance(answer, StyleDnaImage):
            return answer
        return StyleDnaImage.from_artwork(self.wait_for_artwork(answer.id, poll_interval, timeout))

    def create_upscaling(self, request: UpscalingRequest | dict[str, Any]) -> Artwork:
        """Upscale an image; V1 usually answers with a finished (``done``) artwork, V2 with one to wait on."""
        call, answer = self._create("upscaling", parse_request(UpscalingRequest, request))
        return _created_artwork(answer, call, self.log)

    def create_artwork(self, endpoint: str, request: ApiRequest | dict[str, Any]) -> Artwork:
        """Create an artwork at any artwork endpoint of the connection's API version.

        :param endpoint: an artwork endpoint's name (``remove-background`` is
            ``/<version>/artworks/remove-background``), or a path below the version root
            (``style-dna/edit``), routed by :mod:`tengr_provider.endpoints`. Bodies of endpoints with a
            model are validated by it; others are sent as given (camelCase keys, as the API names them).
        """
        route = endpoint_route(endpoint)
        if route.call == "style-dna" and self.settings.api_version == "v1":
            raise ValueError(
                f"endpoint: {endpoint!r} answers with an image, not an artwork, under API V1; use "
                "TengrStyleDnaOperator (or generate_style_dna), or api_version v2"
            )
        if route.model is not None:
            call, answer = self._create(route.call, parse_request(route.model, request), **route.values)
        else:
            call = _create_call(self.settings, route.call, self._given_body(request), **route.values)
            answer = self._call(call)
        return _created_artwork(answer, call, self.log)

    def prepare_create(self, endpoint: str, request: ApiRequest | dict[str, Any]) -> dict[str, Any]:
        """The body :meth:`create_artwork` would send to ``endpoint``, validated; nothing is sent.

        Bodies of endpoints with a model are validated by it (and returned in the API's camelCase);
        others are taken as given. The webhook rules of the connection apply to both.

        :raises TengrRequestValidationError: naming the field and the rule.
        :raises ValueError: ``endpoint`` is not an artwork endpoint's name or path.
        """
        route = endpoint_route(endpoint)
        if route.model is None:
            return self._given_body(request)
        return self._checked_body(parse_request(route.model, request), route.call)

    def get_artwork(self, artwork_id: str) -> Artwork:
        """Read one artwork's status and results."""
        call = _artwork_call(self.settings, artwork_id)
        return parse_response(Artwork, self._call(call), call)

    def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        """List the key's artworks, newest first (``limit`` 1..500)."""
        call = _list_call(self.settings, offset, limit)
        return _artworks_from(self._call(call), call)

    def wait_for_artwork(
        self,
        artwork_id: str,
        poll_interval: float = HOOK_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> Artwork:
        """Poll until the artwork ends; return it on success.

        A 429, 5xx or connection failure that outlasts the hook's retries does not end the wait: polling
        goes on until ``timeout``, as in the triggerer (see :mod:`tengr_provider.waiting.policy`).

        :raises TengrArtworkFailedError: the artwork ended ``failed`` or ``canceled``.
        :raises TengrWaitTimeoutError: ``timeout`` seconds passed first (the artwork may still finish).
        """
        if poll_interval <= 0:
            raise ValueError(f"poll_interval: must be > 0 seconds, got {poll_interval}")
        if timeout < 0:
            raise ValueError(f"timeout: must be >= 0 seconds, got {timeout}")
        wait = ArtworkWait(
            artwork_id,
            deadline=self._monotonic() + timeout,
            poll_interval=poll_interval,
            clock=self._monotonic,
            logger=self.log,
        )
        while True:
            try:
                artwork = self.get_artwork(artwork_id)
            except TRANSIENT_ERRORS as exc:
                wait.read_failed(exc)
            else:
                if wait.ends_with(artwork):
                    if not artwork.status.is_success:
                        raise TengrArtworkFailedError(artwork.id, artwork.status.value)
                    return artwork
            pause = wait.pause()
            if pause is None:
                raise TengrWaitTimeoutError(artwork_id, timeout, wait.last_status)
            self.log.info(
                "tengr.ai artwork %s is %s; next check in %g s", artwork_id, wait.last_status, pause
            )
            self._sleep(pause)

    def test_connection(self) -> tuple[bool, str]:
        """Tell which API version answered and whether the key works; never raises.

        One cheap authenticated read of the connection's API version (the artworks list, no retries)
        checks the base URL and the key; then ``GET /``, where the API lists its routes, says which
        versions the server offers (when it answers; it is not required).
        """
        try:
            settings = self.settings
            call = _list_call(settings, 0, 1)
        except Exception as exc:
            return False, str(exc)
        try:
            self._call(call, max_retries=0)
        except Exception as exc:
            return False, f"API {settings.api_version}: {exc}{self._offered_versions()}"
        return True, (
            f"Connected to {settings.base_url}; API {settings.api_version} answered {call.describe()} "
            f"and the API key was accepted{self._offered_versions()}"
        )

    def _offered_versions(self) -> str:
        """``; GET / lists routes of v1, v2`` from the API's route list, or ``""`` when it says nothing."""
        call = ApiCall("GET", self.settings.path("root"))
        try:
            answer = self._call(call, max_retries=0)
        except Exception:
            return ""
        offered = versions_in_routes(answer)
        if not offered:
            return ""
        advice = (
            ""
            if self.settings.api_version in offered
            else "; set the connection's api_version to one of them"
        )
        return f"; {call.describe()} lists routes of {', '.join(offered)}{advice}"


class TengrAsyncHook(_TengrHookBase):
    """Read artworks from the triggerer's event loop, with the same URL, auth, errors and retries.

    The connection is read with Airflow's async connection API: a synchronous lookup inside a
    trigger fails on Airflow 3. Use it as ``async with TengrAsyncHook(...) as hook:`` or call
    :meth:`close` so the aiohttp session is released.
    """

    #: How the hook sleeps between retries; tests replace it.
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(self, tengr_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(tengr_conn_id, **kwargs)
        self._settings: ConnectionSettings | None = None
        self._session: aiohttp.ClientSession | None = None
        #: The pool share the session borrows, kept apart: a closed session forgets its connector.
        self._connector: aiohttp.TCPConnector | None = None

    async def get_settings(self) -> ConnectionSettings:
        """The connection, resolved once per hook through the async connection API."""
        if self._settings is None:
            conn = await get_async_connection(self.tengr_conn_id, hook=self)
            extras = await get_async_extra_dejson(conn)
            self._settings = self._settings_from(conn, extras)
        return self._settings

    async def _get_session(self, settings: ConnectionSettings) -> aiohttp.ClientSession:
        if self._session is not None and self._session.closed:
            # Closed from outside: give its share of the pool back before taking a new one.
            await self.close()
        if self._session is None:
            self._connector = _shared_connector.acquire()
            self._session = aiohttp.ClientSession(
                headers=settings.headers(),
                timeout=aiohttp.ClientTimeout(total=settings.timeout),
                connector=self._connector,
                connector_owner=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the session and give its share of the loop's connection pool back."""
        session, self._session = self._session, None
        connector, self._connector = self._connector, None
        if session is not None:
            await session.close()
        if connector is not None:
            await _shared_connector.release(connector)

    async def __aenter__(self) -> TengrAsyncHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _send_once(self, call: ApiCall, settings: ConnectionSettings) -> Any:
        session = await self._get_session(settings)
        params = {key: str(value) for key, value in (call.params or {}).items()}
        failure: TengrApiError | None = None
        try:
            async with session.request(
                call.method, call.url(settings), json=call.body, params=params
            ) as resp:
                text = await resp.text()
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        except Exception as exc:
            failure = _async_request_failure(call, settings, exc)
        if failure is not None:
            raise failure  # outside the ``except``, as in TengrHook._send_once
        return decode_answer(call, settings, status, text, retry_after)

    async def _call(self, call: ApiCall) -> Any:
        settings = await self.get_settings()
        retrying = AsyncRetrying(sleep=self._sleep, **self._retry_arguments(call, settings, None))
        return await retrying(self._send_once, call, settings)

    async def get_artwork(self, artwork_id: str) -> Artwork:
        """Read one artwork's status and results."""
        call = _artwork_call(await self.get_settings(), artwork_id)
        return parse_response(Artwork, await self._call(call), call)

    async def list_artworks(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        """List the key's artworks, newest first (``limit`` 1..500), as :meth:`TengrHook.list_artworks`."""
        call = _list_call(await self.get_settings(), offset, limit)
        return _artworks_from(await self._call(call), call)
