"""One aiohttp connection pool per event loop, shared by every async hook on that loop.

A triggerer runs each artwork wait as its own trigger with its own hook. Giving each hook its own
pool would mean one TCP connection (and its buffers) per waiting artwork: thousands against one API
host. Hooks on the same loop borrow one connector instead, and the last hook to let go closes it, so
nothing is left open when the waits are over.
"""

from __future__ import annotations

import asyncio
import weakref

import aiohttp

#: Connections the shared pool keeps per host; enough for any poll rate the API's limits allow.
POOL_CONNECTIONS_PER_HOST = 100


class _LoopConnector:
    def __init__(self, connector: aiohttp.TCPConnector) -> None:
        self.connector = connector
        self.users = 0


_CONNECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnector] = (
    weakref.WeakKeyDictionary()
)


def acquire() -> aiohttp.TCPConnector:
    """The running loop's shared connector, created on first use; pair every call with :func:`release`."""
    loop = asyncio.get_running_loop()
    entry = _CONNECTORS.get(loop)
    if entry is None or entry.connector.closed:
        entry = _LoopConnector(aiohttp.TCPConnector(limit_per_host=POOL_CONNECTIONS_PER_HOST))
        _CONNECTORS[loop] = entry
    entry.users += 1
    return entry.connector


async def release(connector: aiohttp.TCPConnector) -> None:
    """Give the connector back; the last user of the loop closes it."""
    loop = asyncio.get_running_loop()
    entry = _CONNECTORS.get(loop)
    if entry is None or entry.connector is not connector:
        await connector.close()
        return
    entry.users -= 1
    if entry.users <= 0:
        del _CONNECTORS[loop]
        await connector.close()


def users_on_running_loop() -> int:
    """How many hooks share the running loop's connector (for tests and benchmarks)."""
    entry = _CONNECTORS.get(asyncio.get_running_loop())
    return entry.users if entry is not None else 0
