"""``python -m tengr_provider.doctor``: the same command as ``tengr-doctor``."""

from __future__ import annotations

from tengr_provider.doctor.cli import console

console()
