"""Errors the provider raises, one family per thing a DAG author does about it.

They subclass ``AirflowException`` so Airflow treats them as task failures, and they are distinct
classes so that an Airflow 3.3 retry policy can, say, retry :class:`TengrRateLimitError` but not
:class:`TengrAuthError`. Their text never contains the API key: it is built only from the status,
the API's ``message`` and our own hints.
"""

from __future__ import annotations

from tengr_provider.version_compat import AirflowException


class TengrApiError(AirflowException):
    """The tengr.ai API answered with an error, or could not be reached.

    :param status_code: the HTTP status, or ``None`` when no answer came (connection error, timeout).
    :param message: the API's ``message`` (a string, or a list for validation errors).
    :param error: the API's short ``error`` name, when it sent one.
    :param method: HTTP method of the failed call.
    :param path: path of the failed call.
    :param hint: what to check, for errors the user can fix.
    """

    hint: str | None = None
    #: The kind of failure in a few words, for a retry decision's reason.
    summary = "tengr.ai answered with an error"
    #: What the text says in place of an HTTP status when there was none.
    _no_status = ""
    #: Seconds the server asked us to wait (``Retry-After``), when it said so.
    retry_after: float | None = None

    def __init__(
        self,
        status_code: int | None,
        message: str | list[str],
        error: str | None = None,
        *,
        method: str = "",
        path: str = "",
        hint: str | None = None,
    ) -> None:
        # AirflowException (3.3+) declares a class-level HTTPStatus for the API server; ours is the
        # status tengr.ai answered with, per instance.
        self.status_code = status_code  # type: ignore[assignment]
        self.message = message
        self.error = error
        self.method = method
        self.path = path
        if hint is not None:
            self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f"HTTP {self.status_code}" if self.status_code is not None else self._no_status
        error = f" {self.error}" if self.error else ""
        message = "; ".join(self.message) if isinstance(self.message, list) else self.message
        prefix = " ".join(part for part in ("tengr.ai", where) if part)
        head = f"{status}{error}".strip()
        text = f"{prefix}: {head}: {message}" if head else f"{prefix}: {message}"
        return f"{text} ({self.hint})" if self.hint else text

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword-only fields when the error is pickled (e.g. across a process boundary), and
        # the attributes set after construction that retry decisions read (``retry_after``,
        # ``may_have_arrived``): pickle restores the instance's ``__dict__`` as its state.
        return (
            _rebuild,
            (type(self), self.status_code, self.message, self.error, self.method, self.path, self.hint),
            dict(vars(self)),
        )


def _rebuild(
    cls: type[TengrApiError],
    status_code: int | None,
    message: str | list[str],
    error: str | None,
    method: str,
    path: str,
    hint: str | None,
) -> TengrApiError:
    return cls(status_code, message, error, method=method, path=path, hint=hint)


class TengrBadRequestError(TengrApiError):
    """400: the server refused the request's content."""


class TengrAuthError(TengrApiError):
    """401 or 403: the key is missing, wrong, lacks a scope or domain, or credits ran out."""


class TengrNotFoundError(TengrApiError):
    """404: no such artwork, or it is past the API's 8-day retention."""


class TengrRateLimitError(TengrApiError):
    """429: too many requests; ``retry_after`` holds the seconds the server asked for, if any."""

    summary = "tengr.ai rate-limited the call (429)"


class TengrServerError(TengrApiError):
    """500, 502, 503 or 504: a server-side failure, usually transient."""

    summary = "tengr.ai answered with a server error (5xx)"


class TengrConnectionError(TengrApiError):
    """No HTTP answer: the connection failed, dropped, or the call timed out.

    ``may_have_arrived`` is False only when the request certainly never reached the server (the
    connection could not be opened), which makes even a create safe to retry.
    """

    may_have_arrived: bool = True
    _no_status = "no answer"
    summary = "tengr.ai could not be reached or did not answer in time"


#: Failures that may pass (the server was busy or unreachable): a wait polls on through them once the
#: hook's own retries are spent, and ``TengrRetryPolicy`` retries the task after them.
TRANSIENT_ERRORS = (TengrRateLimitError, TengrServerError, TengrConnectionError)


class TengrArtworkFailedError(AirflowException):
    """An artwork ended ``failed`` or ``canceled``; the message names it."""

    def __init__(self, artwork_id: str, status: str) -> None:
        self.artwork_id = artwork_id
        self.status = status
        super().__init__(f"tengr.ai artwork {artwork_id} ended with status {status!r}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.artwork_id, self.status))


class TengrWaitTimeoutError(AirflowException):
    """Waiting for an artwork ran past its timeout; the artwork may still finish later."""

    def __init__(self, artwork_id: str, timeout: float, last_status: str) -> None:
        self.artwork_id = artwork_id
        self.timeout = timeout
        self.last_status = last_status
        super().__init__(
            f"tengr.ai artwork {artwork_id} still {last_status!r} after waiting {timeout:g} s; "
            f"it may still finish: wait on it with TengrArtworkSensor(artwork_id={artwork_id!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.artwork_id, self.timeout, self.last_status))


class TengrBatchError(AirflowException):
    """A batch cannot start or did not end well; the message says why and what to do."""


class TengrBatchInputChangedError(TengrBatchError):
    """A retried batch was given other items than the ones its ledger records (upstream data moved)."""


class TengrBatchCostError(TengrBatchError):
    """A batch would create more new artworks than ``max_new_artworks`` allows; nothing was created."""


class TengrBatchPartialError(TengrBatchError):
    """Items of a batch failed beyond what its failure policy tolerates; every success is stored."""
