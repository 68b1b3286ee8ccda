"""``@task.tengr_upscale``: the function returns the upscaling request, the task upscales the image."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, Union, overload

from tengr_provider.decorators._base import TengrDecoratedOperator, decorate
from tengr_provider.decorators.request_fields import UpscalingFields
from tengr_provider.models import UpscalingRequest
from tengr_provider.operators.upscaling import TengrUpscaleOperator

if TYPE_CHECKING:
    from airflow.sdk.bases.decorator import Task

    from tengr_provider.version_compat import ObjectStoragePath

_P = ParamSpec("_P")
#: What the decorated function may return.
UpscaleReturn = Union[UpscalingFields, UpscalingRequest, Mapping[str, Any]]  # noqa: UP007


class TengrUpscaleDecoratedOperator(TengrDecoratedOperator, TengrUpscaleOperator):
    """:class:`~tengr_provider.operators.TengrUpscaleOperator` whose request a Python function returns."""

    custom_operator_name = "@task.tengr_upscale"
    request_fields_type = "UpscalingFields"


@overload
def tengr_upscale_task(python_callable: Callable[_P, UpscaleReturn], /) -> Task[_P, UpscaleReturn]: ...


@overload
def tengr_upscale_task(
    *,
    tengr_conn_id: str = ...,
    output_path: str | ObjectStoragePath | None = ...,
    wait_for_completion: bool = ...,
    deferrable: bool | None = ...,
    poll_interval: float = ...,
    timeout: float = ...,
    max_image_bytes: int = ...,
    durable: bool = ...,
    **kwargs: Any,
) -> Callable[[Callable[_P, UpscaleReturn]], Task[_P, UpscaleReturn]]: ...


def tengr_upscale_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Turn a function that returns a upscaling request into a :class:`TengrUpscaleOperator` task.

    Registered as ``@task.tengr_upscale``. The function runs on the worker and returns
    :class:`~tengr_provider.decorators.UpscalingFields` (a dict) or a
    :class:`~tengr_provider.models.UpscalingRequest`; the task then behaves and returns exactly like
    the operator. Decorator arguments are the operator's other arguments.

    :param python_callable: the function (given by the bare ``@task.tengr_upscale`` form).
    :param tengr_conn_id: the tengr connection.
    :param output_path: folder to copy the result images to before the task succeeds.
    :param wait_for_completion: wait until the artwork ends; if False, return it as created.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between status reads.
    :param timeout: seconds of waiting before the task fails.
    :param max_image_bytes: refuse a result image larger than this many bytes.
    :param durable: on Airflow 3.3+, a retry picks up the artwork this task already created.
    :param kwargs: any other ``BaseOperator`` argument (``retries``, ``task_id``, ...).
    """
    return decorate(python_callable, TengrUpscaleDecoratedOperator, kwargs)
