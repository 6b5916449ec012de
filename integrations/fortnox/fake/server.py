"""The fake Fortnox as a real HTTP server on a local port (threaded, HTTP/1.1 keep-alive)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integrations.fortnox.fake.app import FakeRequest, FortnoxFake


def _json_default(value):
    # Fortnox writes amounts as JSON numbers; the fake keeps them as Decimal.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms waits for delayed ACKs
    wbufsize = 64 * 1024  # headers and body in one send; flushed after each request
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.fake.handle(FakeRequest(self.command, self.path, headers, body))
        if response.delay:
            time.sleep(response.delay)
        if response.drop_connection:
            # The write (if any) happened; the client never hears about it.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(response.body, bytes):
            payload = response.body
            content_type = "text/plain"
        else:
            payload = json.dumps(response.body, default=_json_default).encode()
            content_type = "application/json"
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if payload or response.status not in (204, 304):
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            # The client gave up (a timeout fault): nothing left to tell it.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base signature)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FortnoxFake


class FakeFortnoxServer:
    """``with FakeFortnoxServer(seed=1) as server: server.api_url ...`` — port 0 picks a
    free port. ``server.fake`` is the ``FortnoxFake`` (state, faults, request log)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **fake_options) -> None:
        self._server = _Server((host, port), _Handler)
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.fake = FortnoxFake(base_url=self.url, **fake_options)
        self._server.fake = self.fake
        self._thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/3/"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth-v1/token"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/oauth-v1/auth"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/oauth-v1/revoke"

    def start(self) -> FakeFortnoxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeFortnoxServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
