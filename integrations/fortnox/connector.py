"""The Fortnox connector: OAuth through integrations/fortnox/oauth.py, and a sync run that
hands the engine the Fortnox adapters (integrations/fortnox/sync/).

Registered for the catalog's ``fortnox`` system when the integrations app is ready.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings

from integrations.connectors import Tokens
from integrations.errors import IntegrationError
from integrations.fortnox import oauth
from integrations.fortnox.client import (
    FortnoxClient,
    company_probe_limiter,
    fortnox_rate_limiter,
)
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.fortnox.sync.run import fortnox_sync
from integrations.models import Connection as ConnectionModel
from integrations.tokens import access_token_for

if TYPE_CHECKING:
    from integrations.models import Connection, SyncRun

# What the sync reads and writes (every Fortnox scope is read and write):
# customers, articles, units (settings [U]), projects, invoices and their payments, supplier
# invoices, the inbox (invoice attachments), and the company information.
SCOPES = (
    "companyinformation",
    "customer",
    "article",
    "settings",
    "project",
    "invoice",
    "payment",
    "supplierinvoice",
    "inbox",
)

logger = logging.getLogger(__name__)

# Extra FortnoxClient options for every sync (timeouts, backoff); tests shorten the pauses.
CLIENT_OPTIONS: dict = {}


def _tokens(token_set: oauth.TokenSet) -> Tokens:
    return Tokens(
        access_token=token_set.access_token,
        refresh_token=token_set.refresh_token or "",
        expires_at=token_set.expires_at,
        scope=" ".join(token_set.scope),
    )


def rate_limiter_key(connection: Connection) -> str:
    """Fortnox counts per client id and company: two connections (of two tenants) to one
    company share one limit, so the key is the company's database number once known (read
    from /3/companyinformation), the connection until then."""
    if connection.remote_company_id:
        return f"{settings.FORTNOX_CLIENT_ID}:company-{connection.remote_company_id}"
    return f"{settings.FORTNOX_CLIENT_ID}:connection-{connection.pk}"


def remote_company_learn(connection: Connection, client: FortnoxClient) -> str:
    """The Fortnox company of `connection` (its database number, or its organisation
    number), read once and kept on the connection; "" when Fortnox does not tell."""

    if connection.remote_company_id:
        return connection.remote_company_id
    try:
        document = client.request("GET", "companyinformation") or {}
    except IntegrationError as error:
        logger.info("Company information of connection %s: %s", connection.pk, error)
        return ""
    info = document.get("CompanyInformation") or {}
    company = str(info.get("DatabaseNumber") or info.get("OrganizationNumber") or "").strip()
    if company:
        connection.remote_company_id = company[:100]
        ConnectionModel.objects.filter(pk=connection.pk).update(
            remote_company_id=connection.remote_company_id
        )
    return company


def client_for(connection: Connection, **options) -> FortnoxClient:
    """A client of `connection`: its access token (refreshed when near its end, and once
    more when Fortnox refuses it), and the rate limiter shared by every worker of every
    connection to the same Fortnox company (learnt first, through the probe limiter)."""

    client = FortnoxClient(
        access_token_for(connection=connection),
        rate_limiter=company_probe_limiter(settings.FORTNOX_CLIENT_ID),
        token_refresher=lambda: access_token_for(connection=connection, force_refresh=True),
        **{**CLIENT_OPTIONS, **options},
    )
    remote_company_learn(connection, client)
    client.rate_limiter = fortnox_rate_limiter(rate_limiter_key(connection))
    return client


class FortnoxConnector:
    scopes = SCOPES
    facts = FORTNOX_FACTS
    kit = "integrations.fortnox.fake.kit.FortnoxKit"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return oauth.authorization_url(redirect_uri=redirect_uri, scopes=self.scopes, state=state)

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        return _tokens(oauth.exchange_code(code=code, redirect_uri=redirect_uri))

    def refresh(self, refresh_token: str) -> Tokens:
        return _tokens(oauth.refresh_tokens(refresh_token=refresh_token))

    def client_credentials(self, remote_tenant_id: str) -> Tokens:
        return _tokens(oauth.client_credentials_token(tenant_id=remote_tenant_id))

    def revoke(self, refresh_token: str) -> None:
        oauth.revoke_refresh_token(refresh_token=refresh_token)

    def run_sync(self, run: SyncRun) -> None:

        fortnox_sync(run, client_for(run.connection), self.facts)
