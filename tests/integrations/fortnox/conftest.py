import datetime

import pytest
from django_scopes import scopes_disabled

from integrations import records
from integrations.fortnox import connector as fortnox_connector
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.fortnox.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeFortnoxServer,
)
from tests.factories import InvoiceStatusFactory, MembershipFactory, connection_create_for
from tests.integrations.fortnox.sync_helpers import connect

REAL_INVOICE_STATUSES = records.invoice_statuses
REAL_PRODUCTS = records.products
FAST_CLIENT = {"backoff_base": 0.01, "default_retry_after": 0.2, "timeout": 1.0}
# Look-ups after an unclear create within milliseconds; "not there" counts from 1 s after
# the write (the fake's late commits land after 0.5 s), twice, before a new create.
FAST_FACTS = FORTNOX_FACTS.with_lookup(
    delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
)


@pytest.fixture
def fortnox_server():
    with FakeFortnoxServer(seed=7) as server:
        yield server


@pytest.fixture
def fake(fortnox_server):
    return fortnox_server.fake


@pytest.fixture
def fortnox_settings(settings, fortnox_server):
    settings.FORTNOX_API_URL = fortnox_server.api_url
    settings.FORTNOX_AUTH_URL = fortnox_server.auth_url
    settings.FORTNOX_TOKEN_URL = fortnox_server.token_url
    settings.FORTNOX_REVOKE_URL = fortnox_server.revoke_url
    settings.FORTNOX_CLIENT_ID = DEFAULT_CLIENT_ID
    settings.FORTNOX_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
    settings.FORTNOX_TIMEOUT = 2.0
    return settings


@pytest.fixture
def access_token(fake):
    return fake.issue_token()["access_token"]


@pytest.fixture
def client(fortnox_settings, access_token):
    """A client with short pauses, so that retries do not slow the tests down."""
    return FortnoxClient(access_token, backoff_base=0.01, default_retry_after=0.1)


# The sync tests (test_sync*.py) ----------------------------------------------------
@pytest.fixture
def real_records(monkeypatch):
    """These tests use the records app's statuses and products, not the engine tests'."""
    monkeypatch.setattr(records, "invoice_statuses", REAL_INVOICE_STATUSES)
    monkeypatch.setattr(records, "products", REAL_PRODUCTS)
    monkeypatch.setattr(fortnox_connector, "CLIENT_OPTIONS", dict(FAST_CLIENT))
    monkeypatch.setattr(fortnox_connector.FortnoxConnector, "facts", FAST_FACTS)


@pytest.fixture
def statuses(tenant):
    with scopes_disabled():
        return {
            name: InvoiceStatusFactory(tenant=tenant, name=name)
            for name in ("Draft", "Send to Fortnox", "In Fortnox", "Paid")
        }


@pytest.fixture
def admin(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="admin").user


@pytest.fixture
def make_connection(real_records, tenant, statuses, fortnox_settings, fake, admin):
    def make(**settings):
        values = {
            "send_status_id": statuses["Send to Fortnox"].pk,
            "received_status_id": statuses["In Fortnox"].pk,
            "paid_status_id": statuses["Paid"].pk,
            "transfer_all_customers": True,
            **settings,
        }
        with scopes_disabled():
            connection = connection_create_for(tenant, **values)
        return connect(connection, fake, admin)

    return make


@pytest.fixture
def fortnox(fortnox_settings, fake):
    """A client of the fake's company, for setting up and reading Fortnox's side."""
    token = fake.issue_token()["access_token"]
    return FortnoxClient(token, backoff_base=0.01, default_retry_after=0.2)
