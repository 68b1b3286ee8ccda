"""``TengrEmulator``: start, address and stop a local tengr.ai API from Python."""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from tengr_provider.testing.app import SAMPLES_PREFIX, EmulatorApp
from tengr_provider.testing.config import DEFAULT_API_KEY, EmulatorConfig, connection_json
from tengr_provider.testing.faults import FaultPlan
from tengr_provider.testing.images import ImageCache
from tengr_provider.testing.server import EmulatorHTTPServer
from tengr_provider.testing.stats import EmulatorStats, StatsRecorder
from tengr_provider.testing.store import ArtworkStore


class TengrEmulator:
    """A tengr.ai API on loopback, for tests and demos without a key or network.

    Use it as a context manager (``with TengrEmulator(processing_seconds=0.5) as emu:``) or call
    :meth:`start` and :meth:`stop`. Every keyword is an :class:`EmulatorConfig` field and documented
    there; the defaults behave like the real API with no faults.

    Artworks, credits and stats live as long as this object, across a stop and a restart.
    """

    def __init__(self, **settings: Any) -> None:
        """:param settings: :class:`EmulatorConfig` fields, e.g. ``processing_seconds=0.5``.

        :raises TypeError: a keyword that is not a setting.
        :raises ValueError: a setting out of range, naming it.
        """
        self.config = EmulatorConfig(**settings)
        self._stats = StatsRecorder()
        self._store = ArtworkStore(self.config)
        self._faults = FaultPlan(self.config)
        self._images = ImageCache()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> TengrEmulator:
        """An emulator with the settings of ``config``."""
        return cls(**{item.name: getattr(config, item.name) for item in dataclasses.fields(config)})

    # -- life cycle -----------------------------------------------------------------------------------

    def start(self) -> TengrEmulator:
        """Bind the port and serve on a daemon thread; returns at once, ready for requests.

        :raises OSError: when the port cannot be bound (e.g. already in use).
        """
        if self._server is not None:
            raise RuntimeError("the tengr emulator is already running")
        server = EmulatorHTTPServer((self.config.host, self.config.port))
        self._stopping = threading.Event()
        port = server.port
        server.app = EmulatorApp(
            self.config,
            self._store,
            self._stats,
            self._faults,
            self._images,
            self._stopping,
            frozenset(
                {server.netloc, f"127.0.0.1:{port}", f"localhost:{port}", f"{self.config.host}:{port}"}
            ),
        )
        self._thread = threading.Thread(
            target=server.serve_forever,
            name=f"tengr-emulator-{port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, hang up on open connections, join every thread and free the port.

        Safe to call twice; injected delays in flight end at once.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def __enter__(self) -> TengrEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"TengrEmulator({where})"

    # -- addresses --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (the connection's ``host``)."""
        if self._server is None:
            raise RuntimeError("the tengr emulator is not running; call start() or use it in a with block")
        return f"http://{self._server.netloc}"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        """The key to send; with ``api_key=None`` any key works and this is the default one."""
        return self.config.api_key or DEFAULT_API_KEY

    @property
    def connection_json(self) -> str:
        """The value of ``AIRFLOW_CONN_TENGR_DEFAULT`` that points the provider here."""
        return connection_json(self.url, self.api_key)

    def connection_json_for(self, api_version: str) -> str:
        """:attr:`connection_json` with the ``api_version`` extra set (``v1`` or ``v2``)."""
        return connection_json(self.url, self.api_key, api_version)

    def sample_image_url(self, name: str = "sample", *, width: int = 1024, height: int = 1024) -> str:
        """URL of a sample source image of the given size, served without auth.

        :param name: file stem; different names give different colours.
        """
        return f"{self.url}{SAMPLES_PREFIX}{name}.png?{urlencode({'width': width, 'height': height})}"

    # -- observation ----------------------------------------------------------------------------------

    def stats(self) -> EmulatorStats:
        """Requests per route and status, and everything created (what ``/_emulator/stats`` serves)."""
        return self._stats.snapshot(self._store.credits_remaining)

    def reset_stats(self) -> None:
        """Zero the request counts and creation records; artworks and credits stay as they are."""
        self._stats.reset()
