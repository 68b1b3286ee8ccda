"""Fixtures for testing the emulator itself; the emulator comes from the provider's pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from tests.emulator.support import Api, ApiFactory

from tengr_provider.testing import TengrEmulator


@pytest.fixture
def api_for() -> Iterator[ApiFactory]:
    """Make an :class:`Api` for any emulator; sessions are closed at teardown."""
    sessions: list[requests.Session] = []

    def make(emulator: TengrEmulator) -> Api:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emulator.api_key}"
        sessions.append(session)
        return Api(emulator, session)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def api(tengr_emulator: TengrEmulator, api_for: ApiFactory) -> Api:
    """A client of the test's ``tengr_emulator``."""
    return api_for(tengr_emulator)
