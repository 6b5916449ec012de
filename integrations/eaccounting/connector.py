"""The Visma eEkonomi connector: OAuth through the Visma Online identity server
(integrations/eaccounting/oauth.py), and a sync run that hands the engine the eEkonomi
adapters (integrations/eaccounting/sync/).

Registered for the catalog's ``visma_eekonomi`` system when the integrations app is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _

from integrations.connections import connection_status_move
from integrations.connectors import Tokens
from integrations.eaccounting import oauth
from integrations.eaccounting.client import EAccountingClient, ModuleMissing
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.eaccounting.sync.run import eekonomi_sync
from integrations.errors import PermanentError
from integrations.models import ConnectionStatus
from integrations.tokens import access_token_for

if TYPE_CHECKING:
    from integrations.models import Connection, SyncRun

# Extra EAccountingClient options for every sync (timeouts, backoff); tests shorten them.
CLIENT_OPTIONS: dict = {}


def module_missing_reason() -> str:
    """What the customer must do when eEkonomi answers 403 ErrorCode 4002 api_standard, in
    the active language."""
    return _(
        "Visma eEkonomi refuses the API for this company (module api_standard is missing): "
        "the company's eEkonomi subscription must include integrations (the API). Add it in "
        "eEkonomi, or ask Visma to switch it on, then connect again here."
    )


def data_transfer_hint() -> str:
    return _(
        "In eEkonomi, open the gear (Settings) → Dataöverföring (Data transfer) and switch on "
        "the transfer for this integration, allowing it to read and write customers, "
        "articles, projects and invoice drafts."
    )


def client_for(connection: Connection, **options) -> EAccountingClient:
    """A client of `connection`: its access token (refreshed when near its end, and once
    more when eEkonomi refuses it)."""

    return EAccountingClient(
        access_token_for(connection=connection),
        token_refresher=lambda: access_token_for(connection=connection, force_refresh=True),
        **{**CLIENT_OPTIONS, **options},
    )


def connection_pause_for_module(connection: Connection) -> str:
    """Pause `connection` with the module-missing reason in the tenant's language (no run is
    tried again until the company has the module and connects again)."""

    with translation.override(connection.tenant.language):
        reason = module_missing_reason()
    if connection.status == ConnectionStatus.ACTIVE:
        connection_status_move(
            connection=connection, to=ConnectionStatus.PAUSED, actor=None, reason=reason[:300]
        )
    return reason


class EEkonomiConnector:
    facts = EACCOUNTING_FACTS
    kit = "integrations.eaccounting.fake.kit.EEkonomiKit"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return oauth.authorization_url(redirect_uri=redirect_uri, state=state)

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        return oauth.exchange_code(code=code, redirect_uri=redirect_uri)

    def refresh(self, refresh_token: str) -> Tokens:
        return oauth.refresh_tokens(refresh_token=refresh_token)

    def client_credentials(self, remote_tenant_id: str) -> Tokens:
        raise PermanentError(
            _("Visma eEkonomi has no service accounts: an administrator connects by signing in.")
        )

    def revoke(self, refresh_token: str) -> None:
        oauth.revoke_refresh_token(refresh_token=refresh_token)

    def run_sync(self, run: SyncRun) -> None:

        try:
            eekonomi_sync(run, client_for(run.connection), self.facts)
        except ModuleMissing as error:
            reason = connection_pause_for_module(run.connection)
            raise ModuleMissing(f"{reason} ({error})", code=error.code) from error

    @staticmethod
    def page_notes(connection: Connection) -> list[str]:
        """What the connection page tells about eEkonomi, in the active language."""
        return [data_transfer_hint()]
