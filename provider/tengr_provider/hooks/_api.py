"""What the sync and async hooks share: one definition of a call, its errors and its retry policy.

Only the transport differs between :class:`~tengr_provider.hooks.tengr.TengrHook` (requests) and
:class:`~tengr_provider.hooks.tengr.TengrAsyncHook` (aiohttp). URL building, headers, the decision
to retry, the wait before a retry and the mapping of an answer to an error all live here, so the two
cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState

from tengr_provider._http import RETRYABLE_STATUSES, RetryWait, parse_retry_after, sleep_passes_budget
from tengr_provider._logging import WarningLogger
from tengr_provider.exceptions import (
    TengrApiError,
    TengrAuthError,
    TengrBadRequestError,
    TengrConnectionError,
    TengrNotFoundError,
    TengrRateLimitError,
    TengrServerError,
)
from tengr_provider.hooks._settings import KEY_FIELD, ConnectionSettings
from tengr_provider.host_policy import webhook_url_problem
from tengr_provider.models import ApiError, ApiRequest
from tengr_provider.request_errors import TengrRequestValidationError

_AUTH_HINT = f"check the API key in {KEY_FIELD}"
_FORBIDDEN_HINT = "the API key lacks the scope or domain for this call, or the account is out of credits"

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def check_webhook(request: ApiRequest | dict[str, Any], settings: ConnectionSettings) -> None:
    """Refuse a webhook tengr.ai would not call, unless the connection allows insecure webhooks.

    :param request: a validated request, or the body of an endpoint without a model.
    :raises TengrRequestValidationError: naming the field and the rule, before any request is sent.
    """
    webhook = request.get("webhook") if isinstance(request, dict) else getattr(request, "webhook", None)
    if not isinstance(webhook, str) or settings.allow_insecure_webhooks:
        return
    problem = webhook_url_problem(webhook)
    if problem is not None:
        raise TengrRequestValidationError(
            "request" if isinstance(request, dict) else type(request).__name__,
            [f"webhook: {problem} (allow_insecure_webhooks on the connection accepts it)"],
        )


@dataclass(frozen=True)
class ApiCall:
    """One call to the API, described once for both transports.

    :param creates: the call spends credits (a POST that creates something); such a call is retried
        after an ambiguous failure only when the connection allows it.
    :param not_found_hint: what a 404 means for this call (an artwork past retention, a missing route).
    """

    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    creates: bool = False
    not_found_hint: str | None = None

    def url(self, settings: ConnectionSettings) -> str:
        """Absolute URL of the call."""
        return f"{settings.base_url}{self.path}"

    def describe(self) -> str:
        """``POST /v1/artworks/photo-pilot``, for logs and errors."""
        return f"{self.method} {self.path}"


_ERROR_CLASSES: dict[int, type[TengrApiError]] = {
    400: TengrBadRequestError,
    401: TengrAuthError,
    403: TengrAuthError,
    404: TengrNotFoundError,
    429: TengrRateLimitError,
}
_HINTS = {401: _AUTH_HINT, 403: _FORBIDDEN_HINT}


def error_from_response(
    call: ApiCall,
    settings: ConnectionSettings,
    status: int,
    body: str,
    retry_after: str | None,
) -> TengrApiError:
    """The error a non-2xx answer means, carrying the API's own message."""
    try:
        parsed = ApiError.model_validate(json.loads(body))
        message: str | list[str] = parsed.message or body
        error = parsed.error
    except (ValueError, ValidationError):
        message, error = body.strip()[:500] or "(empty body)", None
    if isinstance(message, list):
        message = [settings.redact(item) for item in message]
    else:
        message = settings.redact(message)
    error_class = _ERROR_CLASSES.get(status, TengrServerError if status >= 500 else TengrApiError)
    exc = error_class(
        status,
        message,
        error,
        method=call.method,
        path=call.path,
        hint=_HINTS.get(status) or (call.not_found_hint if status == 404 else None),
    )
    exc.retry_after = parse_retry_after(retry_after)
    return exc


def connection_error(
    call: ApiCall, settings: ConnectionSettings, cause: BaseException, *, may_have_arrived: bool
) -> TengrConnectionError:
    """A failure with no HTTP answer; ``may_have_arrived`` says whether the server may have acted."""
    exc = TengrConnectionError(
        None,
        settings.redact(f"{type(cause).__name__}: {cause}"),
        method=call.method,
        path=call.path,
    )
    exc.may_have_arrived = may_have_arrived
    return exc


def unexpected_error(call: ApiCall, settings: ConnectionSettings, cause: BaseException) -> TengrApiError:
    """A failure no answer explains (the HTTP library refused a header or a URL); not retried.

    Whatever library raised it, its text is redacted: such messages often quote the request's headers.
    """
    return TengrApiError(
        None,
        settings.redact(f"request could not be sent: {type(cause).__name__}: {cause}"),
        method=call.method,
        path=call.path,
    )


def decode_answer(
    call: ApiCall, settings: ConnectionSettings, status: int, body: str, retry_after: str | None
) -> Any:
    """The JSON of a 2xx answer; the error a non-2xx answer means (one decoder for both transports).

    :raises TengrApiError: the answer is an error, or a 2xx that is not JSON.
    """
    if status >= 400:
        raise error_from_response(call, settings, status, body, retry_after)
    try:
        return json.loads(body)
    except ValueError:
        raise TengrApiError(status, "answer is not JSON", method=call.method, path=call.path) from None


def parse_response(model: type[_ModelT], data: Any, call: ApiCall) -> _ModelT:
    """Validate a 2xx body into ``model``; a body we cannot read is an API error, not a crash."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise TengrApiError(
            None,
            f"unexpected answer, not a {model.__name__}: {error.errors()[0]['msg']}",
            method=call.method,
            path=call.path,
        ) from None


def is_retryable(exc: BaseException, call: ApiCall, settings: ConnectionSettings) -> bool:
    """Whether ``exc`` is worth another try of ``call``.

    A 429 and a connection that was never made are always safe to retry. A 500/502/503/504 (the
    statuses of :data:`~tengr_provider._http.RETRYABLE_STATUSES`), a timeout or a dropped
    connection may mean the server already acted; for a create that could spend credits twice, so it
    is retried only when the connection allows it (``retry_creates``, on by default).
    """
    if isinstance(exc, TengrRateLimitError):
        return True
    ambiguous = (isinstance(exc, TengrServerError) and exc.status_code in RETRYABLE_STATUSES) or (
        isinstance(exc, TengrConnectionError) and getattr(exc, "may_have_arrived", True)
    )
    if ambiguous:
        return settings.retry_creates or not call.creates
    return isinstance(exc, TengrConnectionError)


class RetryStop:
    """Tenacity stop: one budget of waiting for the server, one count of other failures.

    A 429, and any answer that says how long to wait (``Retry-After``), may be waited out only within
    ``rate_limit_timeout`` seconds of sleeping per call: a sleep that would pass it is not taken. The
    call ends at once with that answer, its ``retry_after`` intact, so the task's retry policy can
    wait it out instead of a worker slot. Other failures count against ``max_retries``.
    """

    def __init__(
        self, max_retries: int, rate_limit_timeout: float, call: ApiCall, logger: WarningLogger
    ) -> None:
        self.max_retries = max_retries
        self.rate_limit_timeout = rate_limit_timeout
        self.other_failures = 0
        self._call = call
        self._log = logger

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        rate_limited = isinstance(exc, TengrRateLimitError)
        if not rate_limited:
            self.other_failures += 1
            if self.other_failures > self.max_retries:
                return True
        asked_to_wait = rate_limited or getattr(exc, "retry_after", None) is not None
        if asked_to_wait and sleep_passes_budget(retry_state, self.rate_limit_timeout):
            self._log.warning(
                "%s: %s; waiting %.1f s more would pass rate_limit_timeout (%g s): giving up now "
                "(TengrRetryPolicy retries the task after the server's Retry-After)",
                self._call.describe(),
                exc,
                retry_state.upcoming_sleep,
                self.rate_limit_timeout,
            )
            return True
        return False


def retry_arguments(
    call: ApiCall,
    settings: ConnectionSettings,
    logger: WarningLogger,
    *,
    max_retries: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying``, the same for both transports."""
    retries = settings.max_retries if max_retries is None else max_retries
    budget = settings.rate_limit_timeout if max_retries is None else 0.0
    stop = RetryStop(retries, budget, call, logger)

    def should_retry(retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return exc is not None and is_retryable(exc, call, settings)

    def before_sleep(retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if isinstance(exc, TengrRateLimitError):
            # Routine under a rate limit: one line per call's first refusal, not per retry.
            log = logger.warning if retry_state.attempt_number == 1 else logger.debug
            log(
                "%s rate limited (HTTP 429); retrying for up to %g s, next try in %.1f s",
                call.describe(),
                stop.rate_limit_timeout,
                wait,
            )
            return
        logger.warning(
            "%s failed (failure %d of at most %d): %s; retrying in %.1f s",
            call.describe(),
            stop.other_failures,
            stop.max_retries + 1,
            exc,
            wait,
        )
        if call.creates:
            logger.warning(
                "%s may already have created an artwork before it failed; retrying can create a "
                "duplicate and spend credits twice (set retry_creates=False on the connection to fail "
                "instead)",
                call.describe(),
            )

    return {
        "stop": stop,
        "wait": RetryWait(settings.backoff_initial, settings.backoff_max, budget),
        "retry": should_retry,
        "before_sleep": before_sleep,
        "reraise": True,
    }
