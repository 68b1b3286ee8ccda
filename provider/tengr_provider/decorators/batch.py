"""``@task.tengr_batch``: the function returns the batch's requests, the task creates and stores them all.

The function runs on the worker and returns the items (a list of dicts or request models) or the URI of
a JSON Lines or CSV file holding them; decorator arguments are :class:`TengrBatchOperator`'s others
(``endpoint``, ``output_path``, ...). The items are needed only when a try starts: a task that resumes
after waiting in the triggerer reads them from its ledger, without running the function again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tengr_provider.operators.batch import TengrBatchOperator
from tengr_provider.version_compat import (
    DecoratedOperator,
    ObjectStoragePath,
    TaskDecorator,
    context_merge,
    determine_kwargs,
    task_decorator_factory,
)

if TYPE_CHECKING:
    from tengr_provider.version_compat import Context


class TengrBatchDecoratedOperator(DecoratedOperator, TengrBatchOperator):
    """:class:`~tengr_provider.operators.TengrBatchOperator` whose items a Python function returns.

    :param python_callable: returns the items (a list) or the URI of a JSON Lines or CSV file of them.
    :param op_args: positional arguments of the function (templated).
    :param op_kwargs: keyword arguments of the function (templated).
    """

    custom_operator_name = "@task.tengr_batch"
    template_fields: tuple[str, ...] = (
        *DecoratedOperator.template_fields,
        *(name for name in TengrBatchOperator.template_fields if name not in ("requests", "requests_path")),
    )
    template_fields_renderers: ClassVar[dict[str, str]] = dict(DecoratedOperator.template_fields_renderers)

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        _refuse_items(kwargs)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)

    def execute(self, context: Context) -> Any:
        """Run the function for the items, then run the batch with them."""
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        returned = self.python_callable(*self.op_args, **kwargs)
        if isinstance(returned, (str, ObjectStoragePath)):
            self.requests, self.requests_path = None, returned
        elif returned is None or isinstance(returned, (bytes, Mapping)):
            function = getattr(self.python_callable, "__name__", "the decorated function")
            raise TypeError(
                f"@task.tengr_batch: {function}() must return a list of requests or the URI of a JSON Lines "
                f"or CSV file of them, got {type(returned).__name__}"
            )
        else:
            self.requests, self.requests_path = returned, None
        # Straight on to the batch: DecoratedOperator.execute adds only Python-task handling.
        return super(DecoratedOperator, self).execute(context)


def tengr_batch_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> TaskDecorator:
    """``@task.tengr_batch``: the function returns the items; the task is a
    :class:`~tengr_provider.operators.TengrBatchOperator`.

    :param python_callable: the function, in the bare form (``@task.tengr_batch`` needs at least
        ``endpoint`` and ``output_path``, so it is used with arguments).
    :param kwargs: the operator's other arguments (``endpoint``, ``output_path``, ``max_in_flight``, ...).
    """
    _refuse_items(kwargs)
    kwargs.setdefault("multiple_outputs", False)
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=TengrBatchDecoratedOperator, **kwargs
    )


def _refuse_items(kwargs: Mapping[str, Any]) -> None:
    """Fail where the decorator is written when it is given the items instead of the function."""
    misplaced = sorted({"requests", "requests_path"} & set(kwargs))
    if misplaced:
        raise TypeError(
            f"@task.tengr_batch: {', '.join(misplaced)}: the decorated function returns the items; "
            "decorator arguments set the task's other arguments (endpoint, output_path, ...)"
        )
