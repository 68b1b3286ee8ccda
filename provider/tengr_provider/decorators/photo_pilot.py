"""``@task.tengr_photo_pilot``: the function returns the photo-pilot request, the task restyles the image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union, cast

from tengr_provider.decorators._base import TengrDecoratedOperator
from tengr_provider.decorators._signatures import WaitingTaskDecorator, task_decorator
from tengr_provider.decorators.request_fields import PhotoPilotFields
from tengr_provider.models import PhotoPilotRequest
from tengr_provider.operators.photo_pilot import TengrPhotoPilotOperator

#: What the decorated function may return.
PhotoPilotReturn = Union[PhotoPilotFields, PhotoPilotRequest, Mapping[str, Any]]  # noqa: UP007


class TengrPhotoPilotDecoratedOperator(TengrDecoratedOperator, TengrPhotoPilotOperator):
    """:class:`~tengr_provider.operators.TengrPhotoPilotOperator` whose request a Python function returns."""

    custom_operator_name = "@task.tengr_photo_pilot"


tengr_photo_pilot_task = cast(
    "WaitingTaskDecorator[PhotoPilotReturn]",
    task_decorator(TengrPhotoPilotDecoratedOperator, "tengr_photo_pilot_task", __name__),
)
