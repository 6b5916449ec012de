import pytest
from django_scopes import scope, scopes_disabled

from integrations import records
from integrations.models import SyncRun, SyncTrigger
from integrations.runs import sync_run_execute, sync_run_start
from integrations.visma_global.fake.kit import VismaGlobalKit
from tests.factories import InvoiceStatusFactory, MembershipFactory, connection_create_for
from tests.integrations.conformance.conftest import REAL_INVOICE_STATUSES, REAL_PRODUCTS


@pytest.fixture
def kit(settings, monkeypatch):
    monkeypatch.setattr(records, "invoice_statuses", REAL_INVOICE_STATUSES)
    monkeypatch.setattr(records, "products", REAL_PRODUCTS)
    harness = VismaGlobalKit()
    harness.start(settings, monkeypatch)
    yield harness
    harness.stop()


class Site:
    """A tenant with a Visma Global connection served by the kit's in-process agent."""

    def __init__(self, tenant, kit, **values):
        self.tenant = tenant
        self.kit = kit
        with scopes_disabled():
            self.statuses = {
                name: InvoiceStatusFactory(tenant=tenant, name=name, position=index)
                for index, name in enumerate(("Draft", "Send", "Sent", "Paid"))
            }
            self.admin = MembershipFactory(tenant=tenant, role="admin").user
            self.connection = connection_create_for(
                tenant,
                system="visma_global",
                send_status_id=self.statuses["Send"].pk,
                received_status_id=self.statuses["Sent"].pk,
                paid_status_id=self.statuses["Paid"].pk,
                error_emails=["erp@example.test"],
                transfer_all_customers=True,
                **values,
            )

    def connect(self):
        self.connection = self.kit.connect(self.connection, self.admin)
        return self.connection

    def sync(self) -> SyncRun:
        with scope(tenant=self.tenant.pk):
            self.connection.refresh_from_db()
            run = sync_run_start(connection=self.connection, trigger=SyncTrigger.MANUAL, actor=None)
            return sync_run_execute(run=run)


@pytest.fixture
def site(tenant, kit):
    return Site(tenant, kit)
