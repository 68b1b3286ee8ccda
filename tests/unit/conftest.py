"""Fixtures the unit tests share."""

from __future__ import annotations

import asyncio

import pytest

from tengr_provider.hooks.tengr import TengrAsyncHook, TengrHook


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the sleeps of the hooks and of ``asyncio.sleep`` (the trigger's polls) instead of sleeping."""
    slept: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    monkeypatch.setattr(TengrAsyncHook, "_sleep", staticmethod(fake_async_sleep))
    monkeypatch.setattr(TengrHook, "_sleep", staticmethod(slept.append))
    return slept
