"""A tiny HTTP server on 127.0.0.1 for tests that need to control what a URL answers
(identity documents, well-known files, slow or oversized replies)."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    hang: bool = False  # send nothing until the server stops
    drip_seconds: float = 0.0  # send the body one byte at a time, this far apart


@dataclass(frozen=True)
class SeenRequest:
    method: str
    host: str
    path: str


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up early (size limits, timeouts): expected here
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """Answers from a table of routes keyed by (Host name, path); records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str | None, str], Route] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, Nagle and
                # delayed ACKs add 40 ms to every response.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host_header = self.headers.get("Host", "")
                host = host_header.rsplit(":", 1)[0] if "]" not in host_header else host_header
                path = self.path.split("?", 1)[0]
                server.requests.append(SeenRequest("GET", host_header, self.path))
                route = server.routes.get((host, path)) or server.routes.get((None, path))
                if route is None:
                    route = Route(status=404, body=b"not found")
                if route.hang:
                    server.stopping.wait(30)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(route.body), 1000):
                        piece = route.body[start : start + 1000]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.drip_seconds:
                    for byte in route.body:
                        if server.stopping.wait(route.drip_seconds):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(route.body)

        self._httpd = _QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, path: str, *, host: str | None = None, **options: object) -> Route:
        route = Route(**options)  # type: ignore[arg-type]
        self.routes[(host, path)] = route
        return route

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path.split("?", 1)[0] == path)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer().start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])
