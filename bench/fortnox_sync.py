"""The first Fortnox sync of a tenant with 1,000 customers, 500 articles and 50 invoices
with one attachment each (Severa → the fake Fortnox over HTTP), at Fortnox's real rate limit
(25 requests in any 5 s, shared in Redis), then a second run with nothing changed.

Reports the requests made per record (attachment uploads and attaches counted, each
attachment a record), the first run's wall time beside the floor the limit sets (requests
÷ 5 per second), the largest number of requests the fake saw in any 5 s, and the requests
(and writes) of the second run. `BENCH_FORTNOX_CUSTOMERS`, `BENCH_FORTNOX_ARTICLES` and
`BENCH_FORTNOX_INVOICES` change the data size. Takes about five minutes at full size.
"""

import os
import time

from bench.harness import bench_database

CUSTOMERS = int(os.environ.get("BENCH_FORTNOX_CUSTOMERS", "1000"))
ARTICLES = int(os.environ.get("BENCH_FORTNOX_ARTICLES", "500"))
INVOICES = int(os.environ.get("BENCH_FORTNOX_INVOICES", "50"))
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"
LIMIT_PER_SECOND = 25 / 5


def _world(server):
    from django.conf import settings
    from django_scopes import scope, scopes_disabled

    from integrations.connectors import connector_for
    from integrations.models import Connection, ConnectionStatus
    from integrations.oauth import callback_url
    from integrations.tokens import tokens_store
    from records.models import Customer, CustomerAddress, Product, Unit
    from severa import clock
    from tests.factories import (
        CustomerInvoiceAttachmentFactory,
        CustomerInvoiceFactory,
        CustomerInvoiceRowFactory,
        InvoiceStatusFactory,
        TenantFactory,
        connection_create_for,
    )

    settings.FORTNOX_API_URL = server.api_url
    settings.FORTNOX_AUTH_URL = server.auth_url
    settings.FORTNOX_TOKEN_URL = server.token_url
    settings.FORTNOX_REVOKE_URL = server.revoke_url
    settings.FORTNOX_CLIENT_ID = "fake-client-id"
    settings.FORTNOX_CLIENT_SECRET = "fake-client-secret"  # noqa: S105 (the fake's)
    with scopes_disabled():
        tenant = TenantFactory()
        send = InvoiceStatusFactory(tenant=tenant, name="Send to Fortnox")
        received = InvoiceStatusFactory(tenant=tenant, name="In Fortnox")
        connection = connection_create_for(
            tenant,
            send_status_id=send.pk,
            received_status_id=received.pk,
            transfer_all_customers=True,
            transfer_attachments=True,
        )
        unit = Unit.objects.create(tenant=tenant, code="h", name="Hour")
        Product.objects.bulk_create(
            Product(tenant=tenant, code=str(10_000 + n), name=f"Service {n}", unit=unit)
            for n in range(ARTICLES)
        )
        customers = Customer.objects.bulk_create(
            Customer(
                tenant=tenant,
                number=str(100_000 + n),
                name=f"Customer {n} AB",
                vat_number=f"SE55{n:08d}01",
                organisation_number=f"55{n:08d}",
            )
            for n in range(CUSTOMERS)
        )
        CustomerAddress.objects.bulk_create(
            CustomerAddress(
                tenant=tenant,
                customer=customer,
                kind="invoice",
                street=f"Storgatan {n}",
                postal_code="11122",
                city="Stockholm",
                country="SE",
            )
            for n, customer in enumerate(customers)
        )
        for n in range(INVOICES):
            invoice = CustomerInvoiceFactory(
                tenant=tenant, customer=customers[n % len(customers)], status=send, number=f"B{n}"
            )
            CustomerInvoiceRowFactory(invoice=invoice)
            CustomerInvoiceAttachmentFactory(
                invoice=invoice,
                file_name=f"invoice-{n}.pdf",
                content_type="application/pdf",
                content=PDF,
            )
    # Authorised through the fake's OAuth endpoints, as the callback does it.
    code = server.fake.issue_code(redirect_uri=callback_url())
    tokens = connector_for("fortnox").exchange_code(code, callback_url())
    with scope(tenant=tenant.pk):
        tokens_store(connection=connection, tokens=tokens, auth_kind="authorization_code")
        now = clock.now()
        Connection.objects.filter(pk=connection.pk).update(
            status=ConnectionStatus.ACTIVE, activated_at=now, authorized_at=now
        )
        connection.refresh_from_db()
    return tenant, connection


def _run(connection):
    from django_scopes import scope

    from integrations.models import SyncRun, SyncTrigger
    from integrations.runs import sync_run_execute
    from severa import clock

    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
        run = SyncRun.objects.create(
            tenant_id=connection.tenant_id,
            connection=connection,
            trigger=SyncTrigger.MANUAL,
            changed_since=connection.last_synced_at,
            created_at=clock.now(),
        )
        started = time.perf_counter()
        run = sync_run_execute(run=run)
        return run, time.perf_counter() - started


def main() -> dict:
    with bench_database():
        from integrations.fortnox.fake import FakeFortnoxServer

        with FakeFortnoxServer(seed=1) as server:
            fake = server.fake
            _tenant, connection = _world(server)
            fake.log.clear()

            first, first_seconds = _run(connection)
            first_requests = fake.requests()
            uploads = [r for r in first_requests if r.method == "POST" and r.path == "/3/inbox"]
            attaches = [
                r
                for r in first_requests
                if r.method == "POST" and r.path.startswith("/api/fileattachments/")
            ]
            records = CUSTOMERS + ARTICLES + INVOICES * 2  # each invoice and its attachment
            company = fake.company()
            floor = len(first_requests) / LIMIT_PER_SECOND
            first_max_in_window = fake.max_in_window()

            fake.log.clear()
            second, second_seconds = _run(connection)
            second_requests = fake.requests()
            return {
                "customers": CUSTOMERS,
                "articles": ARTICLES,
                "invoices_with_an_attachment": INVOICES,
                "first_run_status": first.status,
                "first_run_counts": first.counts,
                "created_in_fortnox": {
                    "customers": len(company.records["customers"]),
                    "articles": len(company.records["articles"]),
                    "invoices": len(company.records["invoices"]),
                    "attachments": len(company.attachments),
                },
                "attachment_uploads": len(uploads),
                "attachment_attaches": len(attaches),
                "first_run_requests": len(first_requests),
                "first_run_writes": sum(1 for r in first_requests if r.is_write),
                "requests_per_record": round(len(first_requests) / records, 3),
                "first_run_seconds": round(first_seconds, 1),
                "rate_limit_floor_seconds": round(floor, 1),
                "wall_vs_floor": round(first_seconds / floor, 3),
                "max_requests_in_any_5s": first_max_in_window,
                "http_429": sum(1 for r in first_requests if r.status == 429),
                "second_run_status": second.status,
                "second_run_requests": len(second_requests),
                "second_run_writes": sum(1 for r in second_requests if r.is_write),
                "second_run_seconds": round(second_seconds, 1),
            }
