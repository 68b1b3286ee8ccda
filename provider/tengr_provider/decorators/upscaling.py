"""``@task.tengr_upscale``: the function returns the upscaling request, the task upscales the image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union, cast

from tengr_provider.decorators._base import TengrDecoratedOperator
from tengr_provider.decorators._signatures import WaitingTaskDecorator, task_decorator
from tengr_provider.decorators.request_fields import UpscalingFields
from tengr_provider.models import UpscalingRequest
from tengr_provider.operators.upscaling import TengrUpscaleOperator

#: What the decorated function may return.
UpscaleReturn = Union[UpscalingFields, UpscalingRequest, Mapping[str, Any]]  # noqa: UP007


class TengrUpscaleDecoratedOperator(TengrDecoratedOperator, TengrUpscaleOperator):
    """:class:`~tengr_provider.operators.TengrUpscaleOperator` whose request a Python function returns."""

    custom_operator_name = "@task.tengr_upscale"


tengr_upscale_task = cast(
    "WaitingTaskDecorator[UpscaleReturn]",
    task_decorator(TengrUpscaleDecoratedOperator, "tengr_upscale_task", __name__),
)
