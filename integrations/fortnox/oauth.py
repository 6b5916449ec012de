"""Fortnox's OAuth2 endpoints: the consent URL, code exchange, refresh (with rotation),
client credentials and revocation. See integrations/fortnox/client.py for the contract."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from integrations.fortnox.errors import (
    AmbiguousWrite,
    AuthorizationError,
    FortnoxError,
    TemporaryError,
    never_sent,
)
from severa import clock


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None  # None for client_credentials
    scope: tuple[str, ...]
    expires_in: int
    token_type: str
    expires_at: datetime.datetime  # by severa.clock, when the access token runs out


def authorization_url(
    *,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    account_type: str | None = None,
    client_id: str | None = None,
    auth_url: str | None = None,
) -> str:
    """Where to send the tenant's Fortnox administrator to approve the connection."""
    query = {
        "client_id": client_id or settings.FORTNOX_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "access_type": "offline",
        "response_type": "code",
    }
    if account_type:
        query["account_type"] = account_type
    return f"{auth_url or settings.FORTNOX_AUTH_URL}?{urlencode(query, quote_via=quote)}"


def _client_auth(client_id: str | None, client_secret: str | None) -> str:
    client_id = client_id or settings.FORTNOX_CLIENT_ID
    client_secret = client_secret or settings.FORTNOX_CLIENT_SECRET
    pair = f"{client_id}:{client_secret}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _oauth_post(
    url: str,
    form: dict[str, str],
    *,
    client_id: str | None,
    client_secret: str | None,
    timeout: float | None,
    consumes_credential: bool,
    extra_headers: dict[str, str] | None = None,
) -> Any:
    headers = {
        "Authorization": _client_auth(client_id, client_secret),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        **(extra_headers or {}),
    }

    def unknown_outcome(message: str, status: int | None = None) -> FortnoxError:
        if consumes_credential:
            return AmbiguousWrite(message, method="POST", path=url, status=status)
        return TemporaryError(message, status=status)

    try:
        response = requests.post(
            url, data=form, headers=headers, timeout=timeout or settings.FORTNOX_TIMEOUT
        )
    except requests.exceptions.RequestException as error:
        if never_sent(error):
            raise TemporaryError(f"Fortnox OAuth unreachable: {error}") from error
        raise unknown_outcome(f"Fortnox OAuth answer lost: {error}") from error
    if response.status_code >= 500:
        raise unknown_outcome("Fortnox OAuth server error", response.status_code)
    try:
        document = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        document = {}
    if response.status_code >= 400 or not isinstance(document, dict):
        error = str(document.get("error", "")) if isinstance(document, dict) else ""
        description = document.get("error_description", "") if isinstance(document, dict) else ""
        raise AuthorizationError(
            # Fortnox's own code and description follow as it gave them.
            (
                _("Fortnox refused the token request: %(answer)s")
                % {"answer": f"{error} {description}".strip() or response.status_code}
            ),
            status=response.status_code,
            error=error,
        )
    return document


def _token_set(document: dict) -> TokenSet:
    expires_in = int(document.get("expires_in", 3600))
    return TokenSet(
        access_token=document["access_token"],
        refresh_token=document.get("refresh_token"),
        scope=tuple(str(document.get("scope", "")).split()),
        expires_in=expires_in,
        token_type=document.get("token_type", "bearer"),
        expires_at=clock.now() + datetime.timedelta(seconds=expires_in),
    )


def exchange_code(
    *,
    code: str,
    redirect_uri: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_url: str | None = None,
    timeout: float | None = None,
) -> TokenSet:
    """Tokens for the authorization code the consent page returned (single use, 10 min)."""
    document = _oauth_post(
        token_url or settings.FORTNOX_TOKEN_URL,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        client_id=client_id,
        client_secret=client_secret,
        timeout=timeout,
        consumes_credential=True,
    )
    return _token_set(document)


def refresh_tokens(
    *,
    refresh_token: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_url: str | None = None,
    timeout: float | None = None,
) -> TokenSet:
    """A new access token *and a new refresh token*; `refresh_token` is spent."""
    document = _oauth_post(
        token_url or settings.FORTNOX_TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        client_id=client_id,
        client_secret=client_secret,
        timeout=timeout,
        consumes_credential=True,
    )
    return _token_set(document)


def client_credentials_token(
    *,
    tenant_id: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_url: str | None = None,
    timeout: float | None = None,
) -> TokenSet:
    """An access token for a service account of Fortnox company `tenant_id` (no refresh
    token: ask again when it runs out)."""
    document = _oauth_post(
        token_url or settings.FORTNOX_TOKEN_URL,
        {"grant_type": "client_credentials"},
        client_id=client_id,
        client_secret=client_secret,
        timeout=timeout,
        consumes_credential=False,
        extra_headers={"TenantId": str(tenant_id)},
    )
    return _token_set(document)


def revoke_refresh_token(
    *,
    refresh_token: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    revoke_url: str | None = None,
    timeout: float | None = None,
) -> bool:
    """Revoke a refresh token (disconnecting); access tokens cannot be revoked."""
    document = _oauth_post(
        revoke_url or settings.FORTNOX_REVOKE_URL,
        {"token_type_hint": "refresh_token", "token": refresh_token},
        client_id=client_id,
        client_secret=client_secret,
        timeout=timeout,
        consumes_credential=False,
    )
    return bool(document.get("revoked"))
