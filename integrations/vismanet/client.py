"""A client of the Visma.net ERP API (``VISMANET_API_URL``, …/v1/) and of Visma Connect
(``VISMANET_CONNECT_URL``: /connect/authorize, /connect/token, /connect/revocation).

- **Authorisation.** Interactive: the authorization code flow with ``offline_access`` (a
  refresh token, rotating); service accounts: client credentials with the *company's*
  tenant id. A token of the *customer* tenant authenticates, and every API call answers
  401: a 401 that a fresh token does not cure raises ``WrongTenant`` with words the user
  can act on (connect again and pick the company).
- **Rate limit.** Visma.net advertises its limit on every answer (``X-RateLimit-Limit``,
  ``-Remaining``, ``-Reset``); the shared limiter follows it
  (integrations.ratelimit.advertised_rate_limiter) and holds every worker back before the
  window is spent. A 429 pauses them all until the window resets.
- **Reads** are retried on timeouts, connection errors and 5xx (backoff with jitter).
  **Writes** never are when they may have arrived: ``AmbiguousWrite``, and the caller looks
  the record up first. A create answers 201 with ``Location`` and no body: the client reads
  the record there.
- **Writes** use the ``{"value": …}`` wrapper (``wrap``); lines are not wrapped.
- **Errors** (integrations/errors.py): 403 → ``PermissionMissing`` (the module or right the
  company lacks), 404 → ``NotFound``, other 4xx → ``PermanentError`` with Visma.net's
  message (``{"message"}`` or ``{"ExceptionMessage"}``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from integrations.errors import (
    AmbiguousWrite,
    AuthorizationError,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TemporaryError,
)
from integrations.http import backoff_delays, parse_retry_after
from integrations.ratelimit import RateLimiter, advertised_limit, limiter_follow

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
SERVICE_SCOPES = tuple(
    f"vismanet_erp_service_api:{right}" for right in ("read", "create", "update", "delete")
)
INTERACTIVE_SCOPES = ("openid", "email", "profile", "tenants", "offline_access") + tuple(
    f"vismanet_erp_interactive_api:{right}" for right in ("read", "create", "update", "delete")
)


class NotFound(PermanentError):
    pass


class WrongTenant(AuthorizationError):
    pass


def wrong_tenant_message() -> str:
    return _(
        "Visma.net ERP refuses every request of this authorisation, although Visma Connect "
        "accepted it: it was most likely given for the customer (the Visma account) instead "
        "of the company. Connect again and pick the Visma.net ERP company when asked; for a "
        "service account give the company's tenant id, not the customer's."
    )


# ---------------------------------------------------------------------------- helpers
def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(document: Any) -> bytes:
    return json.dumps(document, default=_json_default).encode()


def wrap(values: dict[str, Any]) -> dict[str, Any]:
    """A write DTO: every scalar and object in ``{"value": …}`` (objects' fields too);
    lists (lines) are left as they are."""
    wrapped: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, list):
            wrapped[name] = value
        elif isinstance(value, dict):
            wrapped[name] = {"value": wrap(value)}
        else:
            wrapped[name] = {"value": value}
    return wrapped


def error_message(content: bytes) -> str:
    try:
        document = json.loads(content or b"null")
    except ValueError:
        return content.decode(errors="replace")[:300]
    if isinstance(document, dict):
        return str(
            document.get("ExceptionMessage")
            or document.get("message")
            or document.get("error_description")
            or document.get("error")
            or document
        )
    return str(document)[:300]


def format_moment(moment: datetime.datetime) -> str:
    """``lastModifiedDateTime`` as the API takes it (UTC, seconds)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def token_tenant(access_token: str) -> str:
    """The tenant a Visma Connect access token (a JWT) was issued for; "" when it does not
    say (the claims are read, not verified: the API verifies the token)."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    return str(claims.get("tenant_id") or "") if isinstance(claims, dict) else ""


# ---------------------------------------------------------------------------- Visma Connect
@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime.datetime
    scope: str


def _token_call(form: dict[str, str], *, what: str) -> TokenSet:
    form = {
        **form,
        "client_id": settings.VISMANET_CLIENT_ID,
        "client_secret": settings.VISMANET_CLIENT_SECRET,
    }
    try:
        response = requests.post(
            f"{settings.VISMANET_CONNECT_URL}/connect/token",
            data=form,
            headers={"Accept": "application/json"},
            timeout=settings.VISMANET_TIMEOUT,
        )
    except requests.exceptions.RequestException as error:
        if form["grant_type"] == "client_credentials":
            raise TemporaryError(f"Visma Connect {what}: {error.__class__.__name__}") from error
        # A refresh token may be spent already (rotation): unclear.
        raise AmbiguousWrite(f"Visma Connect {what}: no answer") from error
    if response.status_code >= 500:
        raise TemporaryError(f"Visma Connect {what}: {response.status_code}")
    if response.status_code != 200:
        raise AuthorizationError(f"Visma Connect {what}: {error_message(response.content)}")
    document = response.json()
    return TokenSet(
        access_token=document["access_token"],
        refresh_token=document.get("refresh_token") or "",
        expires_at=datetime.datetime.now(tz=datetime.UTC)
        + datetime.timedelta(seconds=int(document.get("expires_in") or 3600)),
        scope=document.get("scope") or "",
    )


def authorization_url(*, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": settings.VISMANET_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(INTERACTIVE_SCOPES),
        "state": state,
        "prompt": "select_account",
    }
    return f"{settings.VISMANET_CONNECT_URL}/connect/authorize?{urlencode(query)}"


def exchange_code(*, code: str, redirect_uri: str) -> TokenSet:
    return _token_call(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        what="code exchange",
    )


def refresh_tokens(*, refresh_token: str) -> TokenSet:
    return _token_call(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, what="refresh"
    )


def client_credentials_token(*, tenant_id: str) -> TokenSet:
    return _token_call(
        {
            "grant_type": "client_credentials",
            "scope": " ".join(SERVICE_SCOPES),
            "tenant_id": tenant_id,
        },
        what="client credentials",
    )


def revoke_token(*, token: str) -> None:
    try:
        response = requests.post(
            f"{settings.VISMANET_CONNECT_URL}/connect/revocation",
            data={
                "token": token,
                "token_type_hint": "refresh_token",
                "client_id": settings.VISMANET_CLIENT_ID,
                "client_secret": settings.VISMANET_CLIENT_SECRET,
            },
            timeout=settings.VISMANET_TIMEOUT,
        )
    except requests.exceptions.RequestException as error:
        raise TemporaryError(f"Visma Connect revocation: {error.__class__.__name__}") from error
    if response.status_code != 200:
        raise PermanentError(f"Visma Connect revocation: {error_message(response.content)}")


# ---------------------------------------------------------------------------- the API
def _never_sent(error: requests.exceptions.RequestException) -> bool:
    return isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.exceptions.ConnectionError) and "refused" in str(error).lower()
    )


class VismaNetClient:
    """Calls of one Visma.net ERP connection. Not thread-safe: one per task."""

    def __init__(
        self,
        access_token: str,
        *,
        rate_limiter: RateLimiter | None = None,
        token_refresher: Callable[[], str] | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        read_attempts: int = 4,
        rate_limit_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        default_retry_after: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self.access_token = access_token
        self.rate_limiter = rate_limiter
        self.token_refresher = token_refresher
        self.base_url = base_url or settings.VISMANET_API_URL
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self.timeout = timeout or settings.VISMANET_TIMEOUT
        self.read_attempts = read_attempts
        self.rate_limit_attempts = rate_limit_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.default_retry_after = default_retry_after
        self.session = session or requests.Session()
        self.requests_sent = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One API call with the rules of the module docstring; the answer (2xx)."""
        is_write = method != "GET"
        url = urljoin(self.base_url, path)
        data = None if body is None else encode(body)
        delays = backoff_delays(
            attempts=self.read_attempts, base=self.backoff_base, cap=self.backoff_cap
        )
        rate_limited = 0
        refreshed = False
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            sent_headers = {
                "Authorization": f"Bearer {self.access_token}",
                "Accept": "application/json",
                **(headers or {}),
            }
            if data is not None:
                sent_headers["Content-Type"] = "application/json"
            self.requests_sent += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=sent_headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.RequestException as error:
                if is_write and not _never_sent(error):
                    raise AmbiguousWrite(
                        f"Visma.net {method} {path}: no answer ({error.__class__.__name__})"
                    ) from error
                problem = TemporaryError(f"Visma.net {method} {path}: {error.__class__.__name__}")
                if not self._pause_before_retry(delays, problem):
                    raise problem from error
                continue
            limiter_follow(self.rate_limiter, response.headers)
            status = response.status_code
            if status == 429:
                rate_limited += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                advertised = advertised_limit(response.headers)
                if wait is None:
                    wait = advertised.reset if advertised else self.default_retry_after
                if rate_limited > self.rate_limit_attempts:
                    raise RateLimited(f"Visma.net {method} {path}: rate limited", retry_after=wait)
                logger.info("Visma.net %s %s: 429, every caller waits %.1f s", method, path, wait)
                if self.rate_limiter is not None:
                    self.rate_limiter.pause(wait)
                else:
                    time.sleep(wait)
                continue
            if status == 401:
                if self.token_refresher is not None and not refreshed:
                    self.access_token = self.token_refresher()
                    refreshed = True
                    continue
                raise WrongTenant(wrong_tenant_message())
            if status == 403:
                raise PermissionMissing(
                    f"Visma.net {method} {path}: {error_message(response.content)}",
                    code=403,
                    scope=path.split("/")[0],
                )
            if status >= 500:
                message = error_message(response.content)
                if is_write:
                    raise AmbiguousWrite(f"Visma.net {method} {path}: {status} {message}")
                problem = TemporaryError(f"Visma.net {method} {path}: {status} {message}")
                if not self._pause_before_retry(delays, problem):
                    raise problem
                continue
            if status == 404:
                raise NotFound(error_message(response.content), code=404)
            if status >= 400:
                raise PermanentError(
                    _("Visma.net refused it: %(message)s")
                    % {"message": error_message(response.content)},
                    code=status,
                )
            return response

    @staticmethod
    def _pause_before_retry(delays: Iterator[float], problem: Exception) -> bool:
        delay = next(delays, None)
        if delay is None:
            return False
        logger.info("%s; trying again in %.2f s", problem, delay)
        time.sleep(delay)
        return True

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as error:
            raise PermanentError("Visma.net answered something that is not JSON.") from error

    # -- resources ------------------------------------------------------------------
    def list(
        self,
        path: str,
        *,
        changed_since: datetime.datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **filters: Any,
    ) -> Iterator[dict]:
        """Every record of a list endpoint, page after page (``pageNumber``/``pageSize`` are
        always given: without them Visma.net answers one default page)."""
        query = {name: value for name, value in filters.items() if value is not None}
        if changed_since is not None:
            query["lastModifiedDateTime"] = format_moment(changed_since)
            query["lastModifiedDateTimeCondition"] = ">="
        page = 1
        while True:
            items = (
                self._json(
                    self.request(
                        "GET", path, params={**query, "pageNumber": page, "pageSize": page_size}
                    )
                )
                or []
            )
            yield from items
            total = int(((items[0].get("metadata") or {}).get("totalCount")) or 0) if items else 0
            if not items or page * page_size >= total:
                return
            page += 1

    def get(self, path: str, key: str) -> dict:
        return self._json(self.request("GET", f"{path}/{quote(str(key), safe='')}"))

    def find(self, path: str, key: str) -> dict | None:
        try:
            return self.get(path, key)
        except NotFound:
            return None

    def create(self, path: str, values: dict) -> dict:
        """POST the wrapped values; the new record, read at its ``Location``."""
        response = self.request("POST", path, body=wrap(values))
        location = response.headers.get("Location", "")
        if not location:
            raise PermanentError("Visma.net created the record but did not say where.")
        return self._json(self.request("GET", location))

    def update(self, path: str, key: str, values: dict, *, etag: str = "") -> dict:
        """PUT the wrapped changes (``If-Match`` when the record's ``timeStamp`` is known);
        the record as it is then."""
        target = f"{path}/{quote(str(key), safe='')}"
        self.request("PUT", target, body=wrap(values), headers={"If-Match": etag} if etag else None)
        return self._json(self.request("GET", target))

    def subaccount_dimension(self) -> dict:
        return self._json(self.request("GET", "dimension/SUBACCOUNT")) or {}
