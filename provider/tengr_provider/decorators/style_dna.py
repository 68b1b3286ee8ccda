"""``@task.tengr_style_dna``: the function returns the style-dna request, the task generates the image."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, Union, overload

from tengr_provider.decorators._base import TengrDecoratedOperator, decorate
from tengr_provider.decorators.request_fields import StyleDnaFields
from tengr_provider.models import StyleDnaRequest
from tengr_provider.operators.style_dna import TengrStyleDnaOperator

if TYPE_CHECKING:
    from airflow.sdk.bases.decorator import Task

    from tengr_provider.version_compat import ObjectStoragePath

_P = ParamSpec("_P")
#: What the decorated function may return.
StyleDnaReturn = Union[StyleDnaFields, StyleDnaRequest, Mapping[str, Any]]  # noqa: UP007


class TengrStyleDnaDecoratedOperator(TengrDecoratedOperator, TengrStyleDnaOperator):
    """:class:`~tengr_provider.operators.TengrStyleDnaOperator` whose request a Python function returns."""

    custom_operator_name = "@task.tengr_style_dna"
    request_fields_type = "StyleDnaFields"


@overload
def tengr_style_dna_task(python_callable: Callable[_P, StyleDnaReturn], /) -> Task[_P, StyleDnaReturn]: ...


@overload
def tengr_style_dna_task(
    *,
    tengr_conn_id: str = ...,
    output_path: str | ObjectStoragePath | None = ...,
    max_image_bytes: int = ...,
    durable: bool = ...,
    **kwargs: Any,
) -> Callable[[Callable[_P, StyleDnaReturn]], Task[_P, StyleDnaReturn]]: ...


def tengr_style_dna_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Turn a function that returns a style-dna request into a :class:`TengrStyleDnaOperator` task.

    Registered as ``@task.tengr_style_dna``. The function runs on the worker and returns
    :class:`~tengr_provider.decorators.StyleDnaFields` (a dict) or a
    :class:`~tengr_provider.models.StyleDnaRequest`; the task then behaves and returns exactly like
    the operator. The image's URL expires, so set ``output_path`` to keep it.

    :param python_callable: the function (given by the bare ``@task.tengr_style_dna`` form).
    :param tengr_conn_id: the tengr connection.
    :param output_path: folder to copy the image to before the task succeeds.
    :param max_image_bytes: refuse an image larger than this many bytes.
    :param durable: on Airflow 3.3+, a retry copies the image it already paid for while its URL works.
    :param kwargs: any other ``BaseOperator`` argument (``retries``, ``task_id``, ...).
    """
    return decorate(python_callable, TengrStyleDnaDecoratedOperator, kwargs)
