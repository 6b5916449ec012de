"""What the fakes of remote systems share (integrations/<system>/fake/): the request and
response of one call, the request log, the faults they inject (5xx, 429, timeouts, lost
answers, late commits after the client's timeout) drawn from a seeded generator or
scripted, and a threaded local HTTP server around a fake's ``handle(FakeRequest)``.
Test support: nothing in a sync imports it."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
FAULT_KINDS = frozenset(
    {"error_500", "timeout", "lost_response", "lost_response_500", "429", "late_commit"}
)


@dataclass
class FakeRequest:
    method: str
    target: str  # path and query, e.g. "/3/customers?page=2"
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


@dataclass
class FakeResponse:
    status: int
    body: Any = None  # JSON-able, or bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the connection without any answer
    delay: float = 0.0  # seconds to sleep before answering (timeouts)


@dataclass
class LoggedRequest:
    at: float  # time.monotonic() on arrival
    wall_at: float  # time.time() on arrival
    method: str
    path: str
    query: str
    token: str | None
    client_id: str | None
    tenant_id: str | None
    status: int = 0
    fault: str | None = None

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass
class Faults:
    """Random faults for API calls (not OAuth), drawn from the fake's seeded generator."""

    error_rate: float = 0.0  # 500 before anything happens
    rate_limited_rate: float = 0.0  # 429 before anything happens
    timeout_rate: float = 0.0  # applied, then answered after timeout_seconds
    lost_response_rate: float = 0.0  # writes: applied, then the connection is dropped
    # Writes: nothing happens for late_commit_seconds (the write is not visible), then the
    # write is applied and answered; a client with a shorter timeout never hears of it.
    late_commit_rate: float = 0.0
    late_commit_seconds: float = 0.5
    timeout_seconds: float = 5.0
    retry_after: bool = False  # send Retry-After on 429


@dataclass
class ScriptedFault:
    kind: str
    count: int = 1
    method: str | None = None
    path_prefix: str | None = None  # e.g. "/3/invoices"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


def fault_draw(
    faults: Faults, scripted: list[ScriptedFault], rng: random.Random, method: str, path: str
) -> str | None:
    """The fault of one API call: a scripted one matching it first, else a random draw."""
    for fault in scripted:
        if fault.count > 0 and fault.matches(method, path):
            fault.count -= 1
            if fault.count == 0:
                scripted.remove(fault)
            return fault.kind
    draw = rng.random()
    for kind, rate, writes_only in (
        ("error_500", faults.error_rate, False),
        ("429", faults.rate_limited_rate, False),
        ("timeout", faults.timeout_rate, False),
        ("lost_response", faults.lost_response_rate, True),
        ("late_commit", faults.late_commit_rate, True),
    ):
        if writes_only and method not in WRITE_METHODS:
            continue
        if draw < rate:
            return kind
        draw -= rate
    return None


def most_in_window(times: Iterable[float], window: float) -> int:
    """The most of `times` (seconds) in any span shorter than `window`."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _json_default(value):
    # Amounts are JSON numbers; the fakes keep them as Decimal.
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

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base signature)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: Any


class FakeHttpServer:
    """A fake as a real HTTP server on a local port (threaded, HTTP/1.1 keep-alive); port 0
    picks a free port. ``server.fake`` is the fake (state, faults, request log)."""

    def __init__(self, fake_factory: Any, *, host: str = "127.0.0.1", port: int = 0, **options):
        self._server = _Server((host, port), _Handler)
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.fake = fake_factory(base_url=self.url, **options)
        self._server.fake = self.fake
        self._thread: threading.Thread | None = None

    def start(self):
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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
