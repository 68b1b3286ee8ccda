"""What an IDE and mypy see of the ``@task.tengr_*`` decorators: both forms, every argument, typed.

Each decorator is one function at run time (:func:`task_decorator`); these protocols give it the two
forms Airflow's own decorators have, bare (``@task.tengr_upscale``) and with arguments
(``@task.tengr_upscale(output_path=...)``), with the argument names completed and the function's
return type (the request) checked. All three take the waiting arguments (style-dna waits only under
API V2, where it answers with an artwork).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, overload

from tengr_provider.decorators._base import TengrDecoratedOperator, decorate
from tengr_provider.operators._base import TengrBaseOperator

if TYPE_CHECKING:
    from tengr_provider.version_compat import ObjectStoragePath, Task

_P = ParamSpec("_P")
#: What the decorated function returns: the request's fields, or the request model.
_Request = TypeVar("_Request")


class WaitingTaskDecorator(Protocol[_Request]):
    """``@task.tengr_photo_pilot``, ``@task.tengr_style_dna`` and ``@task.tengr_upscale``.

    :param python_callable: the function, in the bare form; it returns the request.
    :param tengr_conn_id: the tengr connection.
    :param output_path: folder to copy the result images to before the task succeeds (templated).
    :param wait_for_completion: wait until the artwork ends; if False, return it as created.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between status reads.
    :param timeout: seconds of waiting before the task fails.
    :param max_image_bytes: refuse a result image larger than this many bytes.
    :param durable: on Airflow 3.3+, a retry picks up the artwork this task already created.
    :param kwargs: any other ``BaseOperator`` argument (``task_id``, ``retries``, ...).
    """

    @overload
    def __call__(self, python_callable: Callable[_P, _Request], /) -> Task[_P, _Request]: ...

    @overload
    def __call__(
        self,
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
    ) -> Callable[[Callable[_P, _Request]], Task[_P, _Request]]: ...


def task_decorator(operator_class: type[TengrDecoratedOperator], name: str, module: str) -> Any:
    """The run-time decorator of ``operator_class``, named ``name`` in ``module`` (where Airflow finds it).

    Typed by the caller with :class:`WaitingTaskDecorator`.
    """

    def decorator(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return decorate(python_callable, operator_class, kwargs)

    operator = next(  # the classic operator the decorated one extends
        base.__name__
        for base in operator_class.__mro__
        if issubclass(base, TengrBaseOperator) and not issubclass(base, TengrDecoratedOperator)
    )
    decorator.__name__ = decorator.__qualname__ = name
    decorator.__module__ = module
    decorator.__doc__ = (
        f"``{operator_class.custom_operator_name}``: the function returns the request, the task is a "
        f":class:`~tengr_provider.operators.{operator}`.\n\n"
        f"The function runs on the worker and returns {operator_class.request_fields_type} (a dict) or "
        "the request model; decorator arguments are the operator's other arguments."
    )
    return decorator
