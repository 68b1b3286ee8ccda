"""``@task.tengr_style_dna``: the function returns the style-dna request, the task generates the image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union, cast

from tengr_provider.decorators._base import TengrDecoratedOperator
from tengr_provider.decorators._signatures import WaitingTaskDecorator, task_decorator
from tengr_provider.decorators.request_fields import StyleDnaFields
from tengr_provider.models import StyleDnaRequest
from tengr_provider.operators.style_dna import TengrStyleDnaOperator

#: What the decorated function may return.
StyleDnaReturn = Union[StyleDnaFields, StyleDnaRequest, Mapping[str, Any]]  # noqa: UP007


class TengrStyleDnaDecoratedOperator(TengrDecoratedOperator, TengrStyleDnaOperator):
    """:class:`~tengr_provider.operators.TengrStyleDnaOperator` whose request a Python function returns."""

    custom_operator_name = "@task.tengr_style_dna"


tengr_style_dna_task = cast(
    "WaitingTaskDecorator[StyleDnaReturn]",
    task_decorator(TengrStyleDnaDecoratedOperator, "tengr_style_dna_task", __name__),
)
