"""The HTTP layer: a standard-library threading server that hands requests to :class:`EmulatorApp`.

``http.server`` rather than an ASGI stack: it starts in milliseconds, needs no event loop that could
leak into the test process, and lets a fault close a connection without answering. Two details keep
it fast over keep-alive: every answer (status line, headers, body) leaves in one write, and
``TCP_NODELAY`` is set, so no request waits ~40 ms on Nagle's algorithm and delayed ACKs.
"""

from __future__ import annotations

import contextlib
import logging
import re
import selectors
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qs, urlsplit

from tengr_provider import __version__
from tengr_provider.testing.app import EmulatorApp, Request
from tengr_provider.testing.responses import Response, nest_error

log = logging.getLogger(__name__)

#: Largest request body read; the API's JSON bodies are a few hundred bytes.
MAX_BODY_BYTES = 1 << 20
#: Size of one chunk of a chunked answer.
_CHUNK_BYTES = 64 << 10
#: An idle keep-alive connection is closed after this many seconds, so abandoned ones free their thread.
IDLE_TIMEOUT_SECONDS = 120.0
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Reads one request at a time off a keep-alive connection and writes the app's answer."""

    protocol_version = "HTTP/1.1"
    server_version = f"tengr-emulator/{__version__}"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        """Every method goes the same way; the router decides what exists."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        target = urlsplit(self.path)
        path = target.path or "/"
        body, refusal = self._read_body()
        if refusal is not None:
            self._send(self.server.app.refuse(self.command, path, refusal))
            return
        request = Request(
            method=self.command,
            path=path,
            query=parse_qs(target.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            base_url=f"http://{self._host()}",
        )
        response = self.server.app.handle(request)
        if response.drop:
            self.close_connection = True  # hang up: the client gets no status line at all
            return
        self._send(response)

    def _read_body(self) -> tuple[bytes, Response | None]:
        """The request body, or the answer to give when it cannot be read safely."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return b"", nest_error(411, "Content-Length required", "Length Required")
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self.close_connection = True
            return b"", nest_error(400, "invalid Content-Length", "Bad Request")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return b"", nest_error(413, "request body too large", "Payload Too Large")
        return self.rfile.read(length) if length else b"", None

    def _host(self) -> str:
        """The address the client used, for absolute result URLs; our own if the header is odd."""
        host = (self.headers.get("Host") or "").strip()
        return host if _HOST_HEADER.fullmatch(host) else self.server.netloc

    def _send(self, response: Response) -> None:
        """Write the whole answer in one ``sendall`` (see the module docstring for why).

        A response with ``cut_after`` sends that much of its body and hangs up; a chunked one frames
        its body in chunks instead of announcing its length.
        """
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        length = "Transfer-Encoding: chunked" if response.chunked else f"Content-Length: {len(response.body)}"
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {response.content_type}",
            length,
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = response.body if response.cut_after is None else response.body[: response.cut_after]
        if response.chunked:
            body = _chunked(body, last=response.cut_after is None)
        self.wfile.write(head if self.command == "HEAD" else head + body)
        if response.cut_after is not None:
            self.close_connection = True  # the rest never comes: the client sees the stream break
        self.log_request(response.status)

    def log_message(self, format: str, *args: object) -> None:
        """Access lines go to logging at DEBUG (the CLI shows them), never to stderr directly."""
        log.debug("%s %s", self.address_string(), format % args)


def _chunked(body: bytes, *, last: bool, size: int = _CHUNK_BYTES) -> bytes:
    """``body`` framed as HTTP/1.1 chunks, with the closing zero-length chunk when ``last``."""
    frames = [
        f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        for piece in (body[start : start + size] for start in range(0, len(body), size))
    ]
    return b"".join(frames) + (b"0\r\n\r\n" if last else b"")


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can close every connection it holds, so a stop leaks nothing.

    ``ThreadingHTTPServer`` alone leaves keep-alive handler threads blocked on idle client
    connections after ``shutdown()``; this one tracks them, shuts their sockets and joins them.

    :param address: ``(host, port)`` to bind; port 0 picks a free port.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._app: EmulatorApp | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connection_threads: set[threading.Thread] = set()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stop_requested = False
        self._loop_ended = threading.Event()
        super().__init__(address, EmulatorRequestHandler)

    @property
    def app(self) -> EmulatorApp:
        """The application answering requests; set once the bound port is known."""
        if self._app is None:
            raise RuntimeError("the emulator server has no app yet")
        return self._app

    @app.setter
    def app(self, value: EmulatorApp) -> None:
        self._app = value

    @property
    def port(self) -> int:
        """The bound port (the OS's pick when 0 was asked for)."""
        return int(self.socket.getsockname()[1])

    @property
    def netloc(self) -> str:
        """``host:port`` a client on this machine reaches the server at."""
        host = str(self.server_address[0])
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can take seconds; skip it.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = self.port

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until :meth:`shutdown`.

        Unlike the standard loop, which polls for a stop every ``poll_interval`` (ignored here), this
        one sleeps until a connection arrives or :meth:`shutdown` wakes it, so a stop takes
        microseconds, not up to half a second, and an idle emulator uses no CPU.
        """
        self._loop_ended.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stop_requested:
                    ready = selector.select()
                    if not self._stop_requested and any(key.fileobj is self for key, _ in ready):
                        self._accept()
        finally:
            self._loop_ended.set()

    def _accept(self) -> None:
        """Take one pending connection and hand it to :meth:`process_request`."""
        try:
            request, client_address = self.get_request()
        except OSError:
            return  # the client gave up before we accepted
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (running on another thread) and wait until it has returned."""
        self._stop_requested = True
        self._wake_writer.send(b"\0")
        self._loop_ended.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Serve each connection on its own daemon thread, and remember both."""
        if not isinstance(request, socket.socket):  # pragma: no cover - TCP servers get sockets
            raise TypeError("the emulator serves TCP only")
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"tengr-emulator-{self.port}-connection",
            daemon=True,
        )
        with self._lock:
            self._connections.add(request)
            self._connection_threads.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: object) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.discard(request)
                self._connection_threads.discard(threading.current_thread())

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that vanished mid-request is normal in fault tests: log it quietly."""
        log.debug("tengr emulator: connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Hang up on every open connection and wait for their threads to finish.

        :param timeout: total seconds to wait for handler threads (one may be encoding a big image).
        """
        with self._lock:
            connections = list(self._connections)
            threads = list(self._connection_threads)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("tengr emulator: connection thread %s did not stop in time", thread.name)
