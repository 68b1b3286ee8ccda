"""``TengrEmulator``: start, address and stop a local tengr.ai API from Python."""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType
from urllib.parse import urlencode

from tengr_provider.testing.app import SAMPLES_PREFIX, EmulatorApp
from tengr_provider.testing.config import (
    DEFAULT_API_KEY,
    DEFAULT_RETENTION_SECONDS,
    DEFAULT_URL_TTL_SECONDS,
    EmulatorConfig,
    connection_json,
)
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

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = DEFAULT_API_KEY,
        processing_seconds: float = 2.0,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        url_ttl_seconds: float = DEFAULT_URL_TTL_SECONDS,
        results_per_artwork: int = 1,
        credits: int | None = None,
        seed: int = 0,
        rate_limit: float | None = None,
        rate_limit_retry_after: bool = True,
        error_rate: float = 0.0,
        gateway_timeout_rate: float = 0.0,
        latency: float = 0.0,
        latency_rate: float | None = None,
        drop_rate: float = 0.0,
        failure_rate: float = 0.0,
        cancel_rate: float = 0.0,
        file_break_rate: float = 0.0,
        file_not_image_rate: float = 0.0,
        file_padding_bytes: int = 0,
        file_chunked: bool = False,
    ) -> None:
        self.config = EmulatorConfig(
            host=host,
            port=port,
            api_key=api_key,
            processing_seconds=processing_seconds,
            retention_seconds=retention_seconds,
            url_ttl_seconds=url_ttl_seconds,
            results_per_artwork=results_per_artwork,
            credits=credits,
            seed=seed,
            rate_limit=rate_limit,
            rate_limit_retry_after=rate_limit_retry_after,
            error_rate=error_rate,
            gateway_timeout_rate=gateway_timeout_rate,
            latency=latency,
            latency_rate=latency_rate,
            drop_rate=drop_rate,
            failure_rate=failure_rate,
            cancel_rate=cancel_rate,
            file_break_rate=file_break_rate,
            file_not_image_rate=file_not_image_rate,
            file_padding_bytes=file_padding_bytes,
            file_chunked=file_chunked,
        )
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
        return cls(**dataclasses.asdict(config))

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
