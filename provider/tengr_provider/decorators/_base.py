"""What the three ``@task.tengr_*`` decorators share: run the function, validate its request, hand over.

A decorated task is the tengr operator itself with one step in front: the function runs on the worker,
its return value becomes the operator's validated request, and from there on the operator's own
submit / wait / defer / store path runs unchanged. The request is needed only before the create call;
a task that resumes after deferral finishes from the artwork the trigger reports, without the function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tengr_provider.models import ApiRequest, parse_request
from tengr_provider.operators._base import TengrBaseOperator
from tengr_provider.version_compat import (
    DecoratedOperator,
    TaskDecorator,
    context_merge,
    determine_kwargs,
    task_decorator_factory,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from tengr_provider.version_compat import Context


class TengrDecoratedOperator(DecoratedOperator, TengrBaseOperator):
    """Base of the decorated tengr operators; each subclass also inherits the operator it decorates.

    The request fields are not constructor arguments here: the decorated function returns them when
    the task runs. Every other argument of the operator (``tengr_conn_id``, ``output_path``,
    ``deferrable``, ...) is a decorator argument.

    :param python_callable: the decorated function; it returns the request as a dict of the
        operator's request fields (snake_case or the API's camelCase) or as the request model.
    :param op_args: positional arguments of the function (templated).
    :param op_kwargs: keyword arguments of the function (templated); ``.expand()`` maps over these.
    """

    #: The fields' TypedDict (``PhotoPilotFields`` for ``PhotoPilotRequest``), named in error messages so
    #: users find what to return.
    request_fields_type: ClassVar[str]
    # The function's arguments and the operator's own (output_path, ...); not the request fields, which
    # the function computes in Python.
    template_fields: tuple[str, ...] = (
        *DecoratedOperator.template_fields,
        *TengrBaseOperator.template_fields,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = dict(DecoratedOperator.template_fields_renderers)
    custom_operator_name: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = getattr(cls, "request_model", None)
        if model is not None:
            cls.request_fields_type = f"{model.__name__.removesuffix('Request')}Fields"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        refuse_request_fields(self.custom_operator_name, self.request_fields, kwargs)
        # The operator's constructor requires its request fields; they arrive when the function runs.
        unset: dict[str, Any] = dict.fromkeys(self.request_fields)
        super().__init__(
            python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **unset, **kwargs
        )

    def execute(self, context: Context) -> Any:
        """Run the function for the request, validate it, then run the operator with it.

        An invalid request fails here, naming the field and the rule, before any HTTP request (a
        retried task on Airflow 3.3+ would otherwise look up its stored artwork first).
        """
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        request = self._as_request(self.python_callable(*self.op_args, **kwargs))
        for name in self.request_fields:
            setattr(self, name, getattr(request, name))
        self._request = request
        # Straight on to the tengr operator: DecoratedOperator.execute adds only Python-task Asset
        # handling, and on Airflow 3.0 it calls an XCom method the SDK's BaseOperator lacks.
        return super(DecoratedOperator, self).execute(context)

    def build_request(self) -> ApiRequest:
        """The request the function returned, validated once (before the task ran, there is none)."""
        if self._request is None:
            raise RuntimeError(
                f"{self.custom_operator_name}: the request exists only once the decorated function has run"
            )
        return self._request

    def _as_request(self, returned: object) -> ApiRequest:
        model = self.request_model
        function = getattr(self.python_callable, "__name__", "the decorated function")
        if isinstance(returned, Mapping) and not isinstance(returned, dict):
            returned = dict(returned)
        if not isinstance(returned, (dict, model)):
            hint = " (did it forget to return?)" if returned is None else ""
            raise TypeError(
                f"{self.custom_operator_name}: {function}() must return a {model.__name__} or a dict of "
                f"its fields ({self.request_fields_type}), got {type(returned).__name__}{hint}"
            )
        return parse_request(model, returned)


def refuse_request_fields(decorator: str, request_fields: Collection[str], kwargs: Mapping[str, Any]) -> None:
    """Fail where the decorator is written when it is given a request field instead of the function."""
    misplaced = sorted(set(kwargs) & set(request_fields))
    if misplaced:
        raise TypeError(
            f"{decorator}: {', '.join(misplaced)} "
            f"{'is a request field' if len(misplaced) == 1 else 'are request fields'}; return request "
            "fields from the decorated function. Decorator arguments set the task's other arguments "
            "(tengr_conn_id, output_path, ...)."
        )


def decorate(
    python_callable: Callable[..., Any] | None,
    operator_class: type[TengrDecoratedOperator],
    kwargs: dict[str, Any],
) -> TaskDecorator:
    """Build the TaskFlow decorator for ``operator_class``, the way Airflow's own ``@task.*`` do.

    ``multiple_outputs`` defaults to False: the function returns the request, not the task's result,
    so a return annotation such as :class:`~tengr_provider.decorators.PhotoPilotFields` must not make
    Airflow split the artwork into one XCom per key.
    """
    refuse_request_fields(operator_class.custom_operator_name, operator_class.request_fields, kwargs)
    kwargs.setdefault("multiple_outputs", False)
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=operator_class, **kwargs
    )
