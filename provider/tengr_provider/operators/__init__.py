"""Operators: photo-pilot, style-dna, upscaling and any other artwork endpoint as pipeline steps, one
artwork per task or thousands in one (``TengrBatchOperator``)."""

from __future__ import annotations

from tengr_provider.operators.batch import TengrBatchOperator
from tengr_provider.operators.create_artwork import TengrCreateArtworkOperator
from tengr_provider.operators.photo_pilot import TengrPhotoPilotOperator
from tengr_provider.operators.style_dna import TengrStyleDnaOperator
from tengr_provider.operators.upscaling import TengrUpscaleOperator

__all__ = [
    "TengrBatchOperator",
    "TengrCreateArtworkOperator",
    "TengrPhotoPilotOperator",
    "TengrStyleDnaOperator",
    "TengrUpscaleOperator",
]
