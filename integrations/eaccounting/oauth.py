"""The Visma Online identity server (OAuth2 authorization code) for Visma eEkonomi: the
consent URL, code exchange, refresh and revocation.

Refresh tokens are single-use and rotate: every refresh answers a new pair, and the old
refresh token is spent. The engine refreshes under the connection's row lock and stores both
tokens in the same transaction (integrations/tokens.py). A refresh whose answer is lost
raises ``AmbiguousWrite``: the old token may be spent already, and if the next refresh says
``invalid_grant`` the tenant connects again.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import requests
from django.conf import settings

from integrations.connectors import Tokens
from integrations.errors import AmbiguousWrite, AuthorizationError, TemporaryError
from integrations.http import never_sent
from severa import clock

# ea:api and offline_access are required (the API, and a refresh token); the optional scopes
# are those of the records the sync reads and writes.
SCOPES = ("ea:api", "offline_access", "ea:sales", "ea:accounting", "ea:purchase")


def authorization_url(*, redirect_uri: str, state: str, scopes: Iterable[str] = SCOPES) -> str:
    """Where the tenant's eEkonomi administrator approves the connection. ``prompt=login``
    asks for a fresh sign-in, so a user of several companies picks the one to connect."""
    query = {
        "client_id": settings.EACCOUNTING_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "response_type": "code",
        "prompt": "login",
    }
    return f"{settings.EACCOUNTING_AUTH_URL}?{urlencode(query, quote_via=quote)}"


def _post(url: str, form: dict[str, str], *, consumes_credential: bool) -> dict[str, Any]:
    pair = f"{settings.EACCOUNTING_CLIENT_ID}:{settings.EACCOUNTING_CLIENT_SECRET}"
    headers = {
        "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    lost = AmbiguousWrite if consumes_credential else TemporaryError
    try:
        response = requests.post(
            url, data=form, headers=headers, timeout=settings.EACCOUNTING_TIMEOUT
        )
    except requests.exceptions.RequestException as error:
        if never_sent(error):
            raise TemporaryError(f"Visma identity server unreachable: {error}") from error
        raise lost(f"Visma identity server: answer lost ({error.__class__.__name__})") from error
    if response.status_code >= 500:
        raise lost(f"Visma identity server: error {response.status_code}")
    try:
        document = json.loads(response.content or b"{}", parse_float=Decimal)
    except ValueError:
        document = {}
    if response.status_code >= 400 or not isinstance(document, dict):
        error = document.get("error", "") if isinstance(document, dict) else ""
        raise AuthorizationError(
            f"Visma refused the token request ({response.status_code} {error})".strip()
        )
    return document


def _tokens(document: dict[str, Any]) -> Tokens:
    expires_in = int(document.get("expires_in", 3600))
    return Tokens(
        access_token=document["access_token"],
        refresh_token=document.get("refresh_token") or "",
        expires_at=clock.now() + datetime.timedelta(seconds=expires_in),
        scope=str(document.get("scope", "")),
    )


def exchange_code(*, code: str, redirect_uri: str) -> Tokens:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return _tokens(_post(settings.EACCOUNTING_TOKEN_URL, form, consumes_credential=True))


def refresh_tokens(*, refresh_token: str) -> Tokens:
    """A new pair; `refresh_token` is spent whatever happens next."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _tokens(_post(settings.EACCOUNTING_TOKEN_URL, form, consumes_credential=True))


def revoke_refresh_token(*, refresh_token: str) -> None:
    form = {"token": refresh_token, "token_type_hint": "refresh_token"}
    _post(settings.EACCOUNTING_REVOKE_URL, form, consumes_credential=False)
