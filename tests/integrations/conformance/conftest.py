"""The conformance kit: every registered connector that ships a harness (its `kit`) runs
these tests against its own fake, with faults the kit injects."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from integrations import connectors, records
from integrations.models import Connection, SyncRun, SyncTrigger
from integrations.runs import sync_run_execute, sync_run_start
from tests.factories import (
    CustomerAddressFactory,
    CustomerFactory,
    CustomerInvoiceAttachmentFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    InvoiceStatusFactory,
    MembershipFactory,
    ProductFactory,
    ProjectFactory,
    UnitFactory,
    connection_create_for,
)

REAL_INVOICE_STATUSES = records.invoice_statuses
REAL_PRODUCTS = records.products


def kit_systems() -> list[str]:
    return [
        system for system in connectors.connectors_registered() if connectors.connector_kit(system)
    ]


@pytest.fixture(params=kit_systems())
def kit(request, settings, monkeypatch):
    monkeypatch.setattr(records, "invoice_statuses", REAL_INVOICE_STATUSES)
    monkeypatch.setattr(records, "products", REAL_PRODUCTS)
    harness = connectors.connector_kit(request.param)
    harness.start(settings, monkeypatch)
    yield harness
    harness.stop()


class Company:
    """One tenant's business data and its connection, as the kit syncs it."""

    def __init__(
        self, tenant, kit, *, customers=6, products=4, projects=2, invoices=3, numbers_from=10_000
    ):
        self.tenant = tenant
        with scopes_disabled():
            statuses = {
                name: InvoiceStatusFactory(tenant=tenant, name=name)
                for name in ("Send", "Received", "Paid")
            }
            unit = UnitFactory(tenant=tenant, code="h", name="Hour")
            made = []
            for index in range(customers):
                customer = CustomerFactory(
                    tenant=tenant, number=str(numbers_from + index), name=f"Customer {index} Oy"
                )
                CustomerAddressFactory(customer=customer)
                made.append(customer)
            for index in range(products):
                ProductFactory(
                    tenant=tenant,
                    code=str(numbers_from + 500 + index),
                    name=f"Service {index}",
                    unit=unit,
                )
            for index in range(projects):
                ProjectFactory(tenant=tenant, customer=made[index], number=f"PR{index}")
            self.invoices = []
            for index in range(invoices):
                invoice = CustomerInvoiceFactory(
                    tenant=tenant,
                    customer=made[index],
                    status=statuses["Send"],
                    number=f"F{index}",
                )
                CustomerInvoiceRowFactory(invoice=invoice, unit_price=Decimal(10 + index))
                if index == 0:
                    CustomerInvoiceAttachmentFactory(invoice=invoice)
                self.invoices.append(invoice)
            admin = MembershipFactory(tenant=tenant, role="admin").user
            connection = connection_create_for(
                tenant,
                system=kit.system,
                send_status_id=statuses["Send"].pk,
                received_status_id=statuses["Received"].pk,
                paid_status_id=statuses["Paid"].pk,
                transfer_all_customers=True,
                transfer_attachments=True,
                error_emails=["erp@example.test"],
            )
        self.connection: Connection = kit.connect(connection, admin)
        self.expected = {
            "unit": {"h"},
            "product": {str(numbers_from + 500 + index) for index in range(products)},
            "customer": {str(numbers_from + index) for index in range(customers)},
            "project": {f"PR{index}" for index in range(projects)},
            "invoice": {
                f"severa-{self.connection.pk}-invoice-{invoice.pk}" for invoice in self.invoices
            },
        }
        # A system with rules of its own on what goes (Visma Global: customers only with a
        # won project) says what of the company reaches it.
        if hasattr(kit, "expected_remote"):
            self.expected = kit.expected_remote(self)

    def sync(self) -> SyncRun:
        with scope(tenant=self.tenant.pk):
            self.connection.refresh_from_db()
            run = sync_run_start(connection=self.connection, trigger=SyncTrigger.MANUAL, actor=None)
            return sync_run_execute(run=run)


@pytest.fixture
def company(tenant, kit):
    return Company(tenant, kit)
