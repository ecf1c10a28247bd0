"""A real HTTP receiver for the webhook tests: a threading HTTP server on 127.0.0.1.

Paths: ``/ok`` answers 200, ``/fail`` 500, ``/gone`` 410, ``/redirect`` 307 to ``/ok``, ``/slow`` 200 only after
``slow_seconds`` (later than the sender's timeout), ``/flaky`` 500 until ``flaky_ok`` is set. Every request is kept
(path, headers, body) in arrival order. ``hold_at`` makes the nth request wait (before answering) until ``release``
is set, so a test can kill the sender while a request is in the receiver's hands."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.slow_seconds = 3.0
        self.flaky_ok = threading.Event()
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    nth = len(receiver.requests)
                if receiver.hold_at is not None and nth == receiver.hold_at:
                    receiver.holding.set()
                    receiver.release.wait(60)
                path = self.path.split("?", 1)[0]
                if path == "/slow":
                    time.sleep(receiver.slow_seconds)
                code = {"/ok": 200, "/fail": 500, "/gone": 410, "/slow": 200, "/created": 201, "/redirect": 307}.get(
                    path, 404
                )
                if path == "/flaky":
                    code = 200 if receiver.flaky_ok.is_set() else 500
                try:
                    self.send_response(code)
                    if code == 307:
                        self.send_header("Location", "/ok")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender went away (timed out, or was killed)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
