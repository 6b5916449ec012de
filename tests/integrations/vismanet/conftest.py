from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from integrations import records
from integrations.models import SyncTrigger
from integrations.runs import sync_run_execute, sync_run_start
from integrations.vismanet.fake.kit import VismaNetKit
from tests.factories import (
    CustomerAddressFactory,
    CustomerFactory,
    InvoiceStatusFactory,
    MembershipFactory,
    connection_create_for,
)

REAL_INVOICE_STATUSES = records.invoice_statuses
REAL_PRODUCTS = records.products


@pytest.fixture
def kit(settings, monkeypatch):
    """The fake Visma.net ERP (40 requests per 2 s), with the kit's short timeouts."""
    monkeypatch.setattr(records, "invoice_statuses", REAL_INVOICE_STATUSES)
    monkeypatch.setattr(records, "products", REAL_PRODUCTS)
    harness = VismaNetKit()
    harness.start(settings, monkeypatch)
    yield harness
    harness.stop()


@pytest.fixture
def fake(kit):
    return kit.fake


@pytest.fixture
def statuses(tenant):
    with scopes_disabled():
        return {
            name: InvoiceStatusFactory(tenant=tenant, name=name)
            for name in ("Send", "Received", "Paid")
        }


@pytest.fixture
def admin(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="admin").user


@pytest.fixture
def draft(tenant, statuses):
    with scopes_disabled():
        return connection_create_for(
            tenant,
            system="visma_net",
            send_status_id=statuses["Send"].pk,
            received_status_id=statuses["Received"].pk,
            paid_status_id=statuses["Paid"].pk,
            error_emails=["erp@example.test"],
            transfer_all_customers=True,
        )


@pytest.fixture
def connection(kit, draft, admin):
    return kit.connect(draft, admin)


@pytest.fixture
def customer(tenant):
    with scopes_disabled():
        customer = CustomerFactory(
            tenant=tenant,
            number="7001",
            name="Fjord Consulting AS",
            vat_number="NO923609016MVA",
            organisation_number="923609016",
        )
        CustomerAddressFactory(
            customer=customer,
            country="NO",
            postal_code="0150",
            city="Oslo",
            street="Karl Johans gate 1",
        )
        return customer


def sync(connection):
    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
        run = sync_run_start(connection=connection, trigger=SyncTrigger.MANUAL, actor=None)
        return sync_run_execute(run=run)


ZERO = Decimal(0)
