"""Operators: photo-pilot, style-dna and upscaling as pipeline steps."""

from __future__ import annotations

from tengr_provider.operators.photo_pilot import TengrPhotoPilotOperator
from tengr_provider.operators.style_dna import TengrStyleDnaOperator
from tengr_provider.operators.upscaling import TengrUpscaleOperator

__all__ = ["TengrPhotoPilotOperator", "TengrStyleDnaOperator", "TengrUpscaleOperator"]
