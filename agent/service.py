"""The agent's calls to the service: outbound HTTPS only, with the standard library.

`Transport` sends one request; `UrllibTransport` is the real one (certificate checked).
Tests plug in another transport (e.g. one that calls the service in-process).
"""

from __future__ import annotations

import json
import logging
import platform
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agent import __version__

logger = logging.getLogger("severa_agent")


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    retry_after: float | None = None


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> Response: ...


class UrllibTransport:
    def __init__(self, *, timeout: float = 60.0, verify: bool = True):
        self.timeout = timeout
        self.context = ssl.create_default_context() if verify else ssl._create_unverified_context()  # noqa: S323

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ServiceError("config", "The service address must start with https://.")
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(  # noqa: S310 (https checked above)
                request, timeout=self.timeout, context=self.context
            ) as answer:  # noqa: S310
                return Response(answer.status, _json(answer.read()))
        except urllib.error.HTTPError as error:
            retry = error.headers.get("Retry-After") if error.headers else None
            return Response(error.code, _json(error.read()), float(retry) if retry else None)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            raise ServiceError("unreachable", f"The service cannot be reached: {error}") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ServiceError(Exception):
    """`code`: unreachable, unauthorized, another_agent, upgrade_required, refused, config."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Service:
    """The agent's side of `/api/v1/agent/…`."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        transport: Transport | None = None,
        instance_id: str | None = None,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url.rstrip("/")
        self.key = key
        self.transport = transport or UrllibTransport()
        self.instance_id = instance_id or uuid.uuid4().hex
        self.retries = retries
        self.sleep = sleep

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.key}",
            "X-Agent-Instance": self.instance_id,
            "X-Agent-Version": __version__,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        data = json.dumps(body).encode() if body is not None else None
        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                answer = self.transport.send(
                    method, f"{self.url}/api/v1/agent/{path}", headers, data
                )
            except ServiceError as error:
                if error.code != "unreachable" or attempt == self.retries:
                    raise
                logger.warning("%s (attempt %d)", error, attempt + 1)
                self.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            if answer.status == 429 or answer.status >= 500:
                if attempt == self.retries:
                    raise ServiceError("unreachable", f"The service answered {answer.status}.")
                self.sleep(answer.retry_after if answer.retry_after is not None else delay)
                delay = min(delay * 2, 60.0)
                continue
            if answer.status >= 400:
                error = answer.body.get("error") or {}
                code = error.get("code") or "refused"
                raise ServiceError(
                    code, error.get("message") or f"The service answered {answer.status}."
                )
            return answer.body
        raise ServiceError("unreachable", "The service cannot be reached.")  # pragma: no cover

    def heartbeat(self, *, remote_version: str, remote_company: str) -> dict[str, Any]:
        return self._call(
            "POST",
            "heartbeat",
            {
                "agent_version": __version__,
                "remote_version": remote_version,
                "remote_company": remote_company,
                "hostname": platform.node(),
            },
        )

    def settings(self) -> dict[str, Any]:
        return self._call("GET", "settings")

    def next_job(self, *, wait: float) -> dict[str, Any]:
        return self._call("POST", "jobs/next", {"wait": wait})

    def result(
        self, job_id: int, *, result: Any = None, error: dict | None = None
    ) -> dict[str, Any]:
        body = {"error": error} if error is not None else {"result": result}
        return self._call("POST", f"jobs/{job_id}/result", body)
