"""``TengrRetryPolicy``: one decision per kind of failure (Airflow 3.3+), and a clear error below 3.3."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from tests.helpers import AIRFLOW_VERSION, BASE_URL

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
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.retry_policy import TengrRetryPolicy
from tengr_provider.storage import TengrStorageError
from tengr_provider.version_compat import HAS_RETRY_POLICIES

needs_policies = pytest.mark.skipif(
    not HAS_RETRY_POLICIES, reason=f"retry policies arrived in Airflow 3.3 (this is {AIRFLOW_VERSION})"
)


def with_retry_after(error: TengrApiError, seconds: float | None) -> TengrApiError:
    error.retry_after = seconds
    return error


def decide(exception: BaseException, **options: object) -> tuple[str, timedelta | None, str]:
    decision = TengrRetryPolicy(**options).evaluate(exception, try_number=1, max_tries=3)
    return decision.action.value, decision.retry_delay, decision.reason or ""


@needs_policies
@pytest.mark.parametrize(
    "error",
    [
        TengrRequestValidationError("PhotoPilotRequest", ["creativity: must be 1..5"]),
        TengrBadRequestError(400, "bad"),
        TengrAuthError(401, "Unauthorized"),
        TengrAuthError(403, "Forbidden"),
        TengrNotFoundError(404, "no such artwork"),
        TengrStorageError("output_path s3://nope is not writable"),
    ],
    ids=["validation", "400", "401", "403", "404", "storage"],
)
def test_errors_a_retry_cannot_fix_fail_at_once(error: BaseException) -> None:
    action, delay, reason = decide(error)
    assert (action, delay) == ("fail", None)
    assert "not retrying" in reason


@needs_policies
@pytest.mark.parametrize(
    "error",
    [
        TengrRateLimitError(429, "slow down"),
        TengrServerError(503, "unavailable"),
        TengrServerError(500, "oops"),
        TengrConnectionError(None, "Read timed out"),
    ],
    ids=["429", "503", "500", "timeout"],
)
def test_transient_errors_retry_after_the_tasks_delay_without_retry_after(error: BaseException) -> None:
    action, delay, _ = decide(error)
    assert (action, delay) == ("retry", None)


@needs_policies
@pytest.mark.parametrize("error_class", [TengrRateLimitError, TengrServerError], ids=["429", "503"])
def test_transient_errors_wait_as_long_as_retry_after_says(error_class: type[TengrApiError]) -> None:
    action, delay, reason = decide(with_retry_after(error_class(503, "busy"), 7.2))
    assert (action, delay) == ("retry", timedelta(seconds=8))
    assert "Retry-After" in reason


@needs_policies
def test_a_huge_retry_after_is_capped() -> None:
    error = with_retry_after(TengrRateLimitError(429, "busy"), 86_400)
    _, delay, _ = decide(error, max_retry_after=timedelta(minutes=5))
    assert delay == timedelta(minutes=5)


@needs_policies
def test_each_retry_after_cap_is_the_one_its_setting_names(tengr_connection: str) -> None:
    # rate_limit_timeout bounds the call's own waiting; max_retry_after bounds the task's retry delay.
    # Neither is overridden by a cap of its own when the header is read.
    hook = TengrHook(tengr_connection, rate_limit_timeout=1)
    sleeps: list[float] = []
    hook._sleep = sleeps.append  # type: ignore[method-assign]
    with responses.RequestsMock() as api:
        api.get(
            f"{BASE_URL}/v1/artworks/a-1",
            status=429,
            json={"message": "Too Many Requests", "statusCode": 429},
            headers={"Retry-After": "1200"},
        )
        with pytest.raises(TengrRateLimitError) as raised:
            hook.get_artwork("a-1")
        assert (len(api.calls), sleeps) == (1, [])  # raised at once, nothing slept

    action, delay, _ = decide(raised.value, max_retry_after=timedelta(minutes=20))
    assert (action, delay) == ("retry", timedelta(seconds=1200))


@needs_policies
def test_a_failed_artwork_fails_the_task_unless_asked() -> None:
    action, _, reason = decide(TengrArtworkFailedError("art-1", "failed"))
    assert action == "fail"
    assert "art-1" in reason
    assert "retry_failed_artworks=True" in reason


@needs_policies
def test_a_failed_artwork_retries_when_asked_saying_it_pays_again() -> None:
    action, _, reason = decide(TengrArtworkFailedError("art-1", "failed"), retry_failed_artworks=True)
    assert action == "retry"
    assert "pays" in reason


@needs_policies
def test_a_canceled_artwork_never_retries() -> None:
    action, _, _ = decide(TengrArtworkFailedError("art-1", "canceled"), retry_failed_artworks=True)
    assert action == "fail"


@needs_policies
@pytest.mark.parametrize(
    "error",
    [TengrWaitTimeoutError("art-1", 60, "processing"), RuntimeError("a bug"), TengrApiError(409, "conflict")],
    ids=["wait-timeout", "other", "unmapped-status"],
)
def test_everything_else_is_left_to_the_tasks_retries(error: BaseException) -> None:
    action, delay, _ = decide(error)
    assert (action, delay) == ("default", None)


@needs_policies
def test_the_policy_round_trips_through_serialize() -> None:
    policy = TengrRetryPolicy(retry_failed_artworks=True, max_retry_after=timedelta(seconds=90))
    again = TengrRetryPolicy.deserialize(policy.serialize())
    assert (again.retry_failed_artworks, again.max_retry_after) == (True, timedelta(seconds=90))


@needs_policies
def test_the_policy_is_what_operators_accept_as_retry_policy() -> None:
    from airflow.sdk import RetryPolicy

    from tengr_provider.operators import TengrUpscaleOperator

    policy = TengrRetryPolicy()
    task = TengrUpscaleOperator(task_id="t", image_url="https://x/y.png", scale_factor=2, retry_policy=policy)
    assert isinstance(policy, RetryPolicy)
    assert task.retry_policy is policy


@pytest.mark.skipif(HAS_RETRY_POLICIES, reason="only below Airflow 3.3")
def test_below_airflow_3_3_the_module_imports_but_a_policy_says_what_it_needs() -> None:
    with pytest.raises(RuntimeError, match=r"Airflow 3\.3 or later"):
        TengrRetryPolicy()
