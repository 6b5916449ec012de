"""A client of the Visma eEkonomi (eAccounting) API v2.

Contract for the connector and its sync:

- **Errors** are the engine's (integrations/errors.py). The answer body is
  ``{"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}``.
- **The API module.** A company without the API module answers every call 403 with
  ``ErrorCode`` 4002 "No access to module: api_standard" although OAuth succeeded:
  ``ModuleMissing`` (an ``AuthorizationError``: no run can do anything until the customer
  adds the module and connects again; the connector pauses the connection with the reason
  in words). A 403 naming another module, or a scope the token lacks, is
  ``PermissionMissing`` for that kind of record.
- **Rate limit.** 600 requests a minute, counted per client and endpoint. Each endpoint (the
  first path segment: ``customers``, ``articles``, …) has its own limiter shared through
  Redis by every worker of every connection of this client id. A 429 (``ErrorCode`` 4010,
  "Try again in N seconds") pauses that endpoint's limiter for those seconds and is tried
  again, up to ``rate_limit_attempts`` times, then ``RateLimited``.
- **Reads** are retried on timeouts, connection errors and 5xx with backoff and jitter,
  then ``TemporaryError``. **Writes** are never retried blindly: without an answer (read
  timeout, dropped connection, 5xx) they raise ``AmbiguousWrite`` and the caller looks the
  record up by its marker before writing again. A 401 refreshes the token once.
- **Paging**: ``$page``/``$pagesize`` (at most 1000) with ``Meta.TotalNumberOfPages``;
  filters in OData (``$filter=ChangedUtc gt 2024-01-01T00:00:00Z``).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urljoin

import requests
from django.conf import settings

from integrations.errors import (
    AmbiguousWrite,
    AuthorizationError,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TemporaryError,
)
from integrations.http import backoff_delays, never_sent, parse_retry_after
from integrations.ratelimit import RateLimiter, rate_limiter

logger = logging.getLogger(__name__)

# The API's limit: 600 requests a minute per client and endpoint. A little slack on our
# side: the API counts arrivals, and network delay can bring requests closer together.
RATE_LIMIT = 600
RATE_WINDOW = 60.0
RATE_MARGIN = 1.0
MAX_PAGE_SIZE = 1000
MODULE_MISSING_CODE = 4002
API_MODULE = "api_standard"
RATE_LIMITED_CODE = 4010
NOT_FOUND_CODE = 4004
_TRY_AGAIN = re.compile(r"Try again in (\d+) seconds", re.IGNORECASE)


class NotFound(PermanentError):
    pass


class ModuleMissing(AuthorizationError):
    """The company has no API module in eEkonomi (403, ErrorCode 4002, api_standard)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def odata_datetime(moment: datetime.datetime) -> str:
    """A moment as an OData literal in UTC, e.g. ``2024-01-01T00:00:00Z``."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def odata_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def error_of(content: bytes) -> tuple[str, int | None]:
    """Message and ``ErrorCode`` of an error answer."""
    try:
        document = json.loads(content or b"{}")
    except ValueError:
        return content.decode("utf-8", "replace")[:200] or "no message", None
    if not isinstance(document, dict):
        return str(document)[:200], None
    message = str(document.get("DeveloperErrorMessage") or document.get("Message") or "")
    details = [
        str(item.get("ErrorMessage") or item)
        for item in document.get("Errors") or []
        if isinstance(item, dict)
    ]
    if details:
        message = f"{message} ({'; '.join(details)})" if message else "; ".join(details)
    code = document.get("ErrorCode")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return message or "no message", code


def endpoint_of(path: str) -> str:
    """The endpoint a request counts against: the first segment of its path."""
    return path.strip("/").split("/", 1)[0].split("?", 1)[0].lower()


def endpoint_limiter(endpoint: str) -> RateLimiter:
    """The limiter of one endpoint for this client id (every connection, every worker)."""
    return rate_limiter(
        f"eaccounting:{settings.EACCOUNTING_CLIENT_ID}:{endpoint}",
        limit=RATE_LIMIT,
        window=RATE_WINDOW,
        margin=RATE_MARGIN,
    )


class EAccountingClient:
    """Calls of one eEkonomi connection (one access token). Not thread-safe: one per task."""

    def __init__(
        self,
        access_token: str,
        *,
        token_refresher: Callable[[], str] | None = None,
        limiter_for: Callable[[str], RateLimiter] | None = endpoint_limiter,
        base_url: str | None = None,
        timeout: float | None = None,
        read_attempts: int = 4,
        rate_limit_attempts: int = 5,
        backoff_base: float = 0.5,
        default_retry_after: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self.access_token = access_token
        self.token_refresher = token_refresher
        self.limiter_for = limiter_for
        self.base_url = base_url or settings.EACCOUNTING_API_URL
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self.timeout = timeout or settings.EACCOUNTING_TIMEOUT
        self.read_attempts = read_attempts
        self.rate_limit_attempts = rate_limit_attempts
        self.backoff_base = backoff_base
        self.default_retry_after = default_retry_after
        self.session = session or requests.Session()
        self._limiters: dict[str, RateLimiter] = {}
        # Requests sent (each attempt), for the benchmark and the tests.
        self.sent = 0

    def _limiter(self, path: str) -> RateLimiter | None:
        if self.limiter_for is None:
            return None
        endpoint = endpoint_of(path)
        if endpoint not in self._limiters:
            self._limiters[endpoint] = self.limiter_for(endpoint)
        return self._limiters[endpoint]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One API call with the rules of the module docstring; the decoded JSON (None for
        an empty answer). `path` is relative to the API URL, e.g. "customers"."""
        is_write = method != "GET"
        url = urljoin(self.base_url, path)
        data = None if body is None else json.dumps(body, default=_json_default).encode()
        delays = backoff_delays(attempts=self.read_attempts, base=self.backoff_base)
        limiter = self._limiter(path)
        rate_limited = 0
        refreshed = False
        what = f"eEkonomi {method} {path}"
        while True:
            if limiter is not None:
                limiter.acquire()
            headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            self.sent += 1
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self.timeout
                )
            except requests.exceptions.RequestException as error:
                if is_write and not never_sent(error):
                    raise AmbiguousWrite(
                        f"{what}: no answer ({error.__class__.__name__})"
                    ) from error
                if not self._pause(delays):
                    raise TemporaryError(f"{what}: {error.__class__.__name__}") from error
                continue
            status = response.status_code
            if status == 429:
                message, _code = error_of(response.content)
                found = _TRY_AGAIN.search(message)
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = float(found.group(1)) if found else self.default_retry_after
                rate_limited += 1
                if rate_limited > self.rate_limit_attempts:
                    raise RateLimited(f"{what}: rate limited", retry_after=wait)
                if limiter is not None:
                    limiter.pause(wait)
                else:
                    time.sleep(wait)
                continue
            if status == 401 and self.token_refresher is not None and not refreshed:
                self.access_token = self.token_refresher()
                refreshed = True
                continue
            if status >= 500:
                message, _code = error_of(response.content)
                if is_write:
                    raise AmbiguousWrite(f"{what}: {status} {message}")
                if not self._pause(delays):
                    raise TemporaryError(f"{what}: {status} {message}")
                continue
            if status >= 400:
                message, code = error_of(response.content)
                if status == 403 and code == MODULE_MISSING_CODE and API_MODULE in message:
                    raise ModuleMissing(message, code=code)
                if status == 403:
                    raise PermissionMissing(f"{what}: {message}", code=code, scope=path)
                if status == 401:
                    raise AuthorizationError(f"{what}: {message}", code=code)
                if status == 404:
                    raise NotFound(f"{what}: {message}", code=code)
                raise PermanentError(f"{what}: {message}", code=code)
            if not response.content:
                return None
            try:
                return json.loads(response.content, parse_float=Decimal)
            except ValueError as error:
                raise PermanentError(f"{what}: the answer is not JSON") from error

    @staticmethod
    def _pause(delays: Iterator[float]) -> bool:
        delay = next(delays, None)
        if delay is None:
            return False
        time.sleep(delay)
        return True

    # -- resources ------------------------------------------------------------------
    def list(
        self,
        path: str,
        *,
        filter: str | None = None,  # noqa: A002 (the OData option's name)
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict]:
        """Every record of `path`, page after page (an OData `filter` narrows them)."""
        page = 1
        while True:
            params: dict[str, Any] = {"$page": page, "$pagesize": page_size}
            if filter:
                params["$filter"] = filter
            document = self.request("GET", path, params=params) or {}
            items = document.get("Data") or []
            yield from items
            total = int((document.get("Meta") or {}).get("TotalNumberOfPages") or 0)
            if page >= total or not items:
                return
            page += 1

    def changed(self, path: str, field: str, since: datetime.datetime | None) -> Iterator[dict]:
        return self.list(path, filter=f"{field} gt {odata_datetime(since)}" if since else None)

    def find_by(self, path: str, field: str, value: str) -> dict | None:
        """The first record whose `field` equals `value`, asked of the API (never a cached
        listing)."""
        for item in self.list(path, filter=f"{field} eq {odata_string(value)}", page_size=2):
            return item
        return None

    def get(self, path: str, record_id: str) -> dict:
        return self.request("GET", f"{path}/{quote(record_id, safe='')}")

    def find(self, path: str, record_id: str) -> dict | None:
        try:
            return self.get(path, record_id)
        except NotFound:
            return None

    def create(self, path: str, record: dict) -> dict:
        return self.request("POST", path, body=record)

    def replace(self, path: str, record_id: str, record: dict) -> dict:
        """PUT: the record is replaced as a whole (send every field it should keep)."""
        return self.request("PUT", f"{path}/{quote(record_id, safe='')}", body=record)
