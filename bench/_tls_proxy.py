"""A TLS-terminating forwarder on loopback: HTTPS in front of the (plain HTTP) emulator.

The real API is HTTPS, across a network, where a client that opens a new connection per call pays a
TCP and a TLS handshake per call. The client benchmark measures that too, without leaving loopback:
this process accepts TLS on a free port and forwards the bytes to the emulator. It runs in its own
process so that the server side of each handshake is not charged to the client being measured.

``--rtt-ms`` emulates a network round trip: a new connection waits two round trips before its TLS
handshake completes (TCP's, then TLS 1.3's), and each request and each answer is held half a round
trip. Crude next to a real network (no bandwidth, no loss), but it prices what matters here:
connection set-up versus reuse.

    python -m bench._tls_proxy --target-port 8099 --cert cert.pem --key key.pem [--rtt-ms 20]
    # prints "tls proxy listening <port>", serves until SIGTERM
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from bench._common import stop_process


def write_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 as (cert, key) files; ``cryptography`` comes with Airflow."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextmanager
def tls_proxy(target_port: int, cert: Path, key: Path, rtt_ms: float = 0.0) -> Iterator[str]:
    """Run the forwarder in its own process; yields its ``https://127.0.0.1:<port>`` base URL."""
    command = [sys.executable, "-m", "bench._tls_proxy", "--target-port", str(target_port)]
    command += ["--cert", str(cert), "--key", str(key), "--rtt-ms", str(rtt_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        watchdog.cancel()
        if not line.startswith("tls proxy listening "):
            raise RuntimeError(f"TLS proxy did not start (exit code {process.poll()})")
        yield f"https://127.0.0.1:{line.split()[-1]}"
    finally:
        watchdog.cancel()
        stop_process(process)


def _pump(source: socket.socket, sink: socket.socket, delay: float) -> None:
    try:
        while data := source.recv(65536):
            if delay:
                time.sleep(delay)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (sink, source):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Forwarder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target_port: int, context: ssl.SSLContext, rtt: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target_port = target_port
        self.context = context
        self.rtt = rtt


class _Handler(socketserver.BaseRequestHandler):
    server: _Forwarder

    def handle(self) -> None:
        rtt = self.server.rtt
        if rtt:
            time.sleep(2 * rtt)  # TCP's handshake, then TLS 1.3's, each one round trip
        try:
            client = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        upstream = socket.create_connection(("127.0.0.1", self.server.target_port))
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=_pump, args=(upstream, client, rtt / 2), daemon=True)
        back.start()
        _pump(client, upstream, rtt / 2)
        back.join(timeout=60)
        client.close()
        upstream.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TLS-terminating loopback forwarder")
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="emulated network round trip")
    args = parser.parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = _Forwarder(args.target_port, context, args.rtt_ms / 1000)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"tls proxy listening {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()


if __name__ == "__main__":
    main()
