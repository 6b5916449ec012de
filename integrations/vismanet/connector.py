"""The Visma.net ERP connector: Visma Connect (integrations/vismanet/client.py) and a sync
run that hands the engine the Visma.net adapters (integrations/vismanet/sync/).

Registered for the catalog's ``visma_net`` system when the integrations app is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from integrations.connectors import Tokens
from integrations.models import Connection as ConnectionModel
from integrations.ratelimit import RateLimiter, advertised_rate_limiter
from integrations.tokens import access_token_for
from integrations.vismanet import client as api
from integrations.vismanet.client import VismaNetClient, WrongTenant, token_tenant
from integrations.vismanet.facts import VISMANET_FACTS
from integrations.vismanet.sync.run import vismanet_sync

if TYPE_CHECKING:
    from integrations.models import Connection, SyncRun

# Extra VismaNetClient options for every sync (timeouts, backoff); tests shorten them.
CLIENT_OPTIONS: dict = {}
# Requests of each advertised window left unused: room for a request another worker has
# in flight when the window's last answers come back.
RESERVE = 1


def _tokens(token_set: api.TokenSet) -> Tokens:
    return Tokens(
        access_token=token_set.access_token,
        refresh_token=token_set.refresh_token,
        expires_at=token_set.expires_at,
        scope=token_set.scope,
    )


def rate_limiter_for(access_token: str, connection: Connection | None = None) -> RateLimiter:
    """Visma.net counts per company and client: every connection to one company shares
    one limiter, keyed by the tenant the token was issued for (the connection's own key
    when the token does not say)."""
    tenant = token_tenant(access_token) or (connection.remote_tenant_id if connection else "")
    key = tenant or f"connection-{connection.pk if connection else 'probe'}"
    return advertised_rate_limiter(
        f"vismanet:{settings.VISMANET_CLIENT_ID}:{key}", reserve=RESERVE, margin=0.25
    )


def company_check(tokens: api.TokenSet) -> None:
    """One read with new tokens: Visma Connect accepts a customer tenant's token, and the
    ERP refuses every call of it; tell the user so at once (WrongTenant)."""
    client = VismaNetClient(
        tokens.access_token, rate_limiter=rate_limiter_for(tokens.access_token), **CLIENT_OPTIONS
    )
    client.request("GET", "dimension/SUBACCOUNT")


def client_for(connection: Connection, **options) -> VismaNetClient:
    """A client of `connection`: its access token (refreshed when near its end, and once
    more when Visma.net refuses it) and the limiter shared by every worker of the company."""

    token = access_token_for(connection=connection)
    tenant = token_tenant(token)
    if tenant and connection.remote_company_id != tenant[:100]:
        connection.remote_company_id = tenant[:100]
        ConnectionModel.objects.filter(pk=connection.pk).update(remote_company_id=tenant[:100])
    return VismaNetClient(
        token,
        rate_limiter=rate_limiter_for(token, connection),
        token_refresher=lambda: access_token_for(connection=connection, force_refresh=True),
        **{**CLIENT_OPTIONS, **options},
    )


class VismaNetConnector:
    facts = VISMANET_FACTS
    kit = "integrations.vismanet.fake.kit.VismaNetKit"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return api.authorization_url(redirect_uri=redirect_uri, state=state)

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        tokens = api.exchange_code(code=code, redirect_uri=redirect_uri)
        company_check(tokens)
        return _tokens(tokens)

    def refresh(self, refresh_token: str) -> Tokens:
        return _tokens(api.refresh_tokens(refresh_token=refresh_token))

    def client_credentials(self, remote_tenant_id: str) -> Tokens:
        tokens = api.client_credentials_token(tenant_id=remote_tenant_id)
        company_check(tokens)
        return _tokens(tokens)

    def revoke(self, refresh_token: str) -> None:
        api.revoke_token(token=refresh_token)

    def run_sync(self, run: SyncRun) -> None:

        vismanet_sync(run, client_for(run.connection), self.facts)


__all__ = ["VismaNetConnector", "WrongTenant", "client_for", "company_check"]
