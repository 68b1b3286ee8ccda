"""pytest fixtures for the local tengr.ai emulator, registered through the ``pytest11`` entry point.

Installing the provider loads this module into every pytest session, so it imports nothing heavy:
the emulator (and pydantic with it) is imported only when a test asks for a fixture.

- ``tengr_emulator``: a started emulator for one test, with ``AIRFLOW_CONN_TENGR_DEFAULT`` pointing at
  it. Configure it with ``@pytest.mark.tengr_emulator(processing_seconds=0.2, rate_limit=5, ...)``
  on the test, class or module (the closest marker wins per option).
- ``tengr_emulator_factory``: call it with the same keywords to start more emulators; all are
  stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tengr_provider.testing.emulator import TengrEmulator

MARKER = "tengr_emulator"
CONNECTION_ENV = "AIRFLOW_CONN_TENGR_DEFAULT"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` suites accept it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): settings of the tengr_emulator fixture, e.g. processing_seconds=0.2, "
        "rate_limit=5, error_rate=0.1 (see TengrEmulator)",
    )


@pytest.fixture
def tengr_emulator_factory() -> Iterator[Callable[..., TengrEmulator]]:
    """Start emulators on demand: ``emu = tengr_emulator_factory(error_rate=0.5)``; all stop at teardown."""
    from tengr_provider.testing.emulator import TengrEmulator

    started: list[TengrEmulator] = []

    def start(**options: Any) -> TengrEmulator:
        emulator = TengrEmulator(**options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.stop()


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    """Options from every ``tengr_emulator`` marker on the test, the closest one winning per key."""
    options: dict[str, Any] = {}
    for marker in node.iter_markers(MARKER):  # closest first
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER} takes keyword arguments only, got {marker.args!r}"
            )
        for key, value in marker.kwargs.items():
            options.setdefault(key, value)
    return options


@pytest.fixture
def tengr_emulator(
    request: pytest.FixtureRequest,
    tengr_emulator_factory: Callable[..., TengrEmulator],
    monkeypatch: pytest.MonkeyPatch,
) -> TengrEmulator:
    """A started emulator for this test; ``AIRFLOW_CONN_TENGR_DEFAULT`` points at it meanwhile."""
    emulator = tengr_emulator_factory(**_marker_options(request.node))
    monkeypatch.setenv(CONNECTION_ENV, emulator.connection_json)
    return emulator
