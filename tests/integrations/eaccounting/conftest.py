import datetime

import pytest
from django_scopes import scopes_disabled

from integrations import records
from integrations.eaccounting import connector as eaccounting_connector
from integrations.eaccounting.client import EAccountingClient
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.eaccounting.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeEAccountingServer,
)
from tests.factories import (
    InvoiceStatusFactory,
    MembershipFactory,
    TenantFactory,
    UnitFactory,
    connection_create_for,
)
from tests.integrations.fortnox.sync_helpers import connect

REAL_INVOICE_STATUSES = records.invoice_statuses
REAL_PRODUCTS = records.products
FAST_CLIENT = {"backoff_base": 0.01, "default_retry_after": 0.2, "timeout": 1.0}
FAST_FACTS = EACCOUNTING_FACTS.with_lookup(
    delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
)


@pytest.fixture
def server():
    with FakeEAccountingServer(seed=3) as server:
        yield server


@pytest.fixture
def fake(server):
    return server.fake


@pytest.fixture
def eaccounting_settings(settings, server):
    settings.EACCOUNTING_API_URL = server.api_url
    settings.EACCOUNTING_AUTH_URL = server.auth_url
    settings.EACCOUNTING_TOKEN_URL = server.token_url
    settings.EACCOUNTING_REVOKE_URL = server.revoke_url
    settings.EACCOUNTING_CLIENT_ID = DEFAULT_CLIENT_ID
    settings.EACCOUNTING_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
    settings.EACCOUNTING_TIMEOUT = 2.0
    return settings


@pytest.fixture
def eekonomi(eaccounting_settings, fake):
    """A client of the fake's company, for setting up and reading eEkonomi's side."""
    code = fake.issue_code(redirect_uri="http://127.0.0.1/callback")
    from integrations.eaccounting.oauth import exchange_code

    tokens = exchange_code(code=code, redirect_uri="http://127.0.0.1/callback")
    return EAccountingClient(tokens.access_token, limiter_for=None, backoff_base=0.01)


@pytest.fixture
def swedish_tenant(db):
    return TenantFactory(
        name="Sundsvall Konsult AB",
        country="SE",
        business_id="556677-8899",
        vat_number="SE556677889901",
        language="sv",
    )


@pytest.fixture
def real_records(monkeypatch):
    monkeypatch.setattr(records, "invoice_statuses", REAL_INVOICE_STATUSES)
    monkeypatch.setattr(records, "products", REAL_PRODUCTS)
    monkeypatch.setattr(eaccounting_connector, "CLIENT_OPTIONS", dict(FAST_CLIENT))
    monkeypatch.setattr(eaccounting_connector.EEkonomiConnector, "facts", FAST_FACTS)


@pytest.fixture
def statuses(swedish_tenant):
    with scopes_disabled():
        return {
            name: InvoiceStatusFactory(tenant=swedish_tenant, name=name)
            for name in ("Draft", "Send", "In eEkonomi", "Paid")
        }


@pytest.fixture
def hour(swedish_tenant):
    with scopes_disabled():
        return UnitFactory(tenant=swedish_tenant, code="h", name="Timme")


@pytest.fixture
def admin(swedish_tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=swedish_tenant, role="admin").user


@pytest.fixture
def make_connection(real_records, swedish_tenant, statuses, eaccounting_settings, fake, admin):
    def make(**values):
        values = {
            "send_status_id": statuses["Send"].pk,
            "received_status_id": statuses["In eEkonomi"].pk,
            "paid_status_id": statuses["Paid"].pk,
            "transfer_all_customers": True,
            **values,
        }
        with scopes_disabled():
            connection = connection_create_for(swedish_tenant, system="visma_eekonomi", **values)
        return connect(connection, fake, admin)

    return make
