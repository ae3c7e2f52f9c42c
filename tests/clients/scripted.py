"""A small local HTTP server the SDK tests script: each `METHOD /path` answers from a list
of replies (429 then 200, a dropped connection, an event stream that breaks, an answer that
never comes), things a live plyr cannot be made to do on cue, and every request is recorded
with its time, query and Authorization header."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON, or bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None  # sent chunked, then the connection drops
    hang: bool = False  # never answer
    drop: bool = False  # close the connection without answering


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    at: float  # time.monotonic()
    query: str = ""
    authorization: str | None = None  # the header as it arrived


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # connections the tests drop on purpose


class Scripted:
    """A local HTTP server answering each path from a script, one reply per request (the
    last one repeats), and recording every request with its time."""

    def __init__(self) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def answer(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                while size > 0:
                    size -= len(self.rfile.read(min(size, 65536)))
                path, _, query = self.path.partition("?")
                seen = Seen(
                    self.command, path, time.monotonic(), query, self.headers.get("authorization")
                )
                owner.requests.append(seen)
                replies = owner.script.get(f"{self.command} {path}") or [Reply(404, b"")]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.hang:
                    owner.stopping.wait(30)
                    return
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for chunk in reply.chunks:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    self.close_connection = True  # no closing chunk: the stream breaks
                    return
                raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                data = raw if isinstance(raw, bytes) else raw.encode()
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def on(self, route: str, *replies: Reply) -> None:
        self.script[route] = list(replies)

    def count(self, route: str) -> int:
        return sum(1 for seen in self.requests if f"{seen.method} {seen.path}" == route)

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
