import pytest
from django_scopes import scope, scopes_disabled

from integrations import connectors, records
from tests.factories import MembershipFactory, connection_create_for
from tests.integrations.memory import MemoryConnector, MemoryWorld

STATUSES = [(11, "Ready to send"), (12, "Sent"), (13, "Paid")]
PRODUCTS = [(21, "100 Consulting")]


@pytest.fixture
def world():
    """The in-memory accounting system, registered as the Fortnox connector for the test
    (whatever was registered before comes back afterwards)."""
    previous = connectors._REGISTRY.get("fortnox")
    memory = MemoryWorld()
    MemoryConnector.world = memory
    MemoryConnector.calls = []
    connectors.connector_register("fortnox", MemoryConnector)
    yield memory
    MemoryConnector.world = None
    if previous is None:
        connectors.connector_unregister("fortnox")
    else:
        connectors.connector_register("fortnox", previous)


@pytest.fixture(autouse=True)
def tenant_records(monkeypatch):
    """The tenant's invoice statuses and products (the records app's), for every tenant."""
    monkeypatch.setattr(records, "invoice_statuses", lambda tenant: list(STATUSES))
    monkeypatch.setattr(records, "products", lambda tenant: list(PRODUCTS))


@pytest.fixture
def connection(tenant):
    """A draft Fortnox connection with the statuses chosen; the interface is active."""
    with scopes_disabled():
        return connection_create_for(
            tenant, send_status_id=11, received_status_id=12, error_emails=["erp@example.test"]
        )


@pytest.fixture
def active_connection(connection, world):
    from integrations.oauth import client_credentials_authorize

    with scope(tenant=connection.tenant_id):
        return client_credentials_authorize(
            connection=connection, remote_tenant_id="T-1", actor=None
        )


@pytest.fixture
def tenant_admin(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="admin").user
