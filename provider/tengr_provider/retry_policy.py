"""``TengrRetryPolicy``: which tengr.ai failures an Airflow task retry can fix (Airflow 3.3+).

Airflow 3.3 added ``retry_policy=`` to every operator: on the worker, after a try fails, the policy
looks at the exception and answers retry (optionally after a given delay), fail now, or "do what
``retries`` says". A task retry of a tengr operator can spend credits, so retrying what cannot
succeed (a refused key, an invalid request, an unwritable bucket) wastes a try and the user's time,
while a rate limit or an overloaded server is worth waiting out, as long as the server asked for.

Below Airflow 3.3 operators take no ``retry_policy=``: this module still imports (a DAG file shared
across versions can import it), but building a policy raises a clear error.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tengr_provider.exceptions import (
    TRANSIENT_ERRORS,
    TengrArtworkFailedError,
    TengrAuthError,
    TengrBadRequestError,
    TengrNotFoundError,
)
from tengr_provider.models import ArtworkStatus
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.storage import TengrStorageError
from tengr_provider.version_compat import HAS_RETRY_POLICIES, RetryDecision, RetryPolicy

if TYPE_CHECKING:
    from tengr_provider.version_compat import Context

__all__ = ["TengrRetryPolicy"]

#: Failures no retry can fix, with what the user has to do instead.
_FAIL_AT_ONCE: tuple[tuple[type[BaseException], str], ...] = (
    (TengrRequestValidationError, "the request breaks an API rule; fix the task's arguments"),
    (TengrBadRequestError, "tengr.ai refused the request (400); fix the task's arguments"),
    (TengrAuthError, "tengr.ai refused the key (401/403); check the connection's key, scope and credits"),
    (TengrNotFoundError, "tengr.ai has no such artwork (404)"),
    (TengrStorageError, "the images cannot be stored at output_path; check the path and its permissions"),
)
#: The longest ``Retry-After`` honoured by default.
DEFAULT_MAX_RETRY_AFTER = timedelta(hours=1)


class TengrRetryPolicy(RetryPolicy):
    """Retry a tengr task only when a retry can succeed; Airflow 3.3+ (``retry_policy=``).

    - invalid requests, 400, 401, 403, 404 and storage errors fail the task at once;
    - 429, 5xx, timeouts and connection errors retry, after the server's ``Retry-After`` when it sent
      one (capped at ``max_retry_after``), else after the task's own ``retry_delay``;
    - an artwork that ended ``failed`` retries only with ``retry_failed_artworks=True``, because the
      retry creates (and pays for) a new artwork; a ``canceled`` one never does;
    - anything else is left to the task's ``retries``.

    A retry is still bounded by the task's ``retries``: the policy can only fail early or choose the delay.

    :param retry_failed_artworks: retry when the artwork itself ended ``failed``; each retry pays again.
    :param max_retry_after: the longest ``Retry-After`` honoured, so a server's answer cannot park a
        task for a day.
    :raises RuntimeError: on Airflow below 3.3, which has no retry policies.
    """

    def __init__(
        self,
        retry_failed_artworks: bool = False,
        max_retry_after: timedelta = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        if not HAS_RETRY_POLICIES:
            raise RuntimeError(
                "TengrRetryPolicy needs Airflow 3.3 or later (operators take retry_policy= from 3.3 on); "
                "on older Airflow use retries= and the hook's own HTTP retries"
            )
        self.retry_failed_artworks = retry_failed_artworks
        self.max_retry_after = max_retry_after

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Context | None = None,
    ) -> RetryDecision:
        """Decide from the exception alone; the try counts are Airflow's to enforce.

        :param exception: what the failed try raised.
        :param try_number: the try that failed (1-based); not used.
        :param max_tries: the task's tries; not used, Airflow stops at ``retries`` anyway.
        :param context: the task's context; not used.
        """
        for kind, reason in _FAIL_AT_ONCE:
            if isinstance(exception, kind):
                return RetryDecision.fail(reason=f"{reason}: not retrying")
        if isinstance(exception, TRANSIENT_ERRORS):
            return self._retry_after(exception, exception.summary)
        if isinstance(exception, TengrArtworkFailedError):
            return self._artwork_ended(exception)
        return RetryDecision.default()

    def _retry_after(self, exception: BaseException, reason: str) -> RetryDecision:
        seconds = getattr(exception, "retry_after", None)
        if seconds is None:
            return RetryDecision.retry(reason=f"{reason}: retrying after the task's retry_delay")
        delay = min(timedelta(seconds=math.ceil(seconds)), self.max_retry_after)
        return RetryDecision.retry(
            delay=delay, reason=f"{reason}: retrying after {delay.total_seconds():g} s (Retry-After)"
        )

    def _artwork_ended(self, exception: TengrArtworkFailedError) -> RetryDecision:
        what = f"artwork {exception.artwork_id} ended {exception.status!r}"
        if exception.status == ArtworkStatus.FAILED.value and self.retry_failed_artworks:
            return RetryDecision.retry(reason=f"{what}: retrying creates and pays for a new artwork")
        if exception.status == ArtworkStatus.FAILED.value:
            return RetryDecision.fail(
                reason=f"{what}: not retrying (a retry pays again; retry_failed_artworks=True allows it)"
            )
        return RetryDecision.fail(reason=f"{what}: not retrying a canceled artwork")

    def serialize(self) -> dict[str, Any]:
        """The policy as JSON, for Airflow versions that serialize policies with the DAG."""
        return {
            "__type": "TengrRetryPolicy",
            "retry_failed_artworks": self.retry_failed_artworks,
            "max_retry_after": self.max_retry_after.total_seconds(),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> TengrRetryPolicy:
        """The policy :meth:`serialize` described."""
        return cls(
            retry_failed_artworks=bool(data.get("retry_failed_artworks", False)),
            max_retry_after=timedelta(
                seconds=float(data.get("max_retry_after", DEFAULT_MAX_RETRY_AFTER.total_seconds()))
            ),
        )
