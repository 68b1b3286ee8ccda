"""TaskFlow decorators: ``@task.tengr_photo_pilot``, ``@task.tengr_style_dna``, ``@task.tengr_upscale``.

Airflow finds them through the provider info (``task-decorators``), so ``from airflow.sdk import task``
is all a DAG needs. Import the functions from here for full static typing of their arguments, and the
``*Fields`` TypedDicts to annotate what the decorated function returns.
"""

from __future__ import annotations

from tengr_provider.decorators.photo_pilot import TengrPhotoPilotDecoratedOperator, tengr_photo_pilot_task
from tengr_provider.decorators.request_fields import PhotoPilotFields, StyleDnaFields, UpscalingFields
from tengr_provider.decorators.style_dna import TengrStyleDnaDecoratedOperator, tengr_style_dna_task
from tengr_provider.decorators.upscaling import TengrUpscaleDecoratedOperator, tengr_upscale_task

__all__ = [
    "PhotoPilotFields",
    "StyleDnaFields",
    "TengrPhotoPilotDecoratedOperator",
    "TengrStyleDnaDecoratedOperator",
    "TengrUpscaleDecoratedOperator",
    "UpscalingFields",
    "tengr_photo_pilot_task",
    "tengr_style_dna_task",
    "tengr_upscale_task",
]
