"""Fixtures the unit tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the sleeps of the hooks and of the trigger's polls instead of sleeping.

    Only their own injectable sleeps are replaced, never ``asyncio.sleep`` itself: the event loop, the
    status poller's yields between slices and aiohttp keep their real behaviour.
    """
    # Imported here: a conftest that imports Airflow at its own import fixes Airflow's home before the
    # suite's root conftest has set it (pytest imports the conftests of named folders first).
    from tengr_provider.hooks.tengr import TengrAsyncHook, TengrHook
    from tengr_provider.triggers.artwork import TengrArtworkTrigger

    slept: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(TengrArtworkTrigger, "_sleep", staticmethod(fake_async_sleep))
    monkeypatch.setattr(TengrAsyncHook, "_sleep", staticmethod(fake_async_sleep))
    monkeypatch.setattr(TengrHook, "_sleep", staticmethod(slept.append))
    return slept
