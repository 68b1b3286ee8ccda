"""A local tengr.ai emulator: a real HTTP server on loopback for tests, demos and offline development.

Start it from Python (``with TengrEmulator() as emu: ...``), from the shell (``tengr-emulator``) or
as a pytest fixture (``tengr_emulator``). See ``docs/testing-with-the-emulator.md``.

The names below are resolved lazily: the pytest plugin imports this package in every pytest session of
everyone who installs the provider, so importing it must not pull in pydantic or the server.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tengr_provider.testing.config import DEFAULT_API_KEY, EmulatorConfig
    from tengr_provider.testing.emulator import TengrEmulator
    from tengr_provider.testing.stats import CreatedArtwork, EmulatorStats

__all__ = ["DEFAULT_API_KEY", "CreatedArtwork", "EmulatorConfig", "EmulatorStats", "TengrEmulator"]

_HOMES = {
    "DEFAULT_API_KEY": "tengr_provider.testing.config",
    "EmulatorConfig": "tengr_provider.testing.config",
    "TengrEmulator": "tengr_provider.testing.emulator",
    "CreatedArtwork": "tengr_provider.testing.stats",
    "EmulatorStats": "tengr_provider.testing.stats",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
