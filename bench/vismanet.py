"""The first Visma.net ERP sync of a tenant with 1,000 customers, 500 items and 1,000
invoices of 5 rows with subaccount segments (department and cost centre), against the fake
Visma.net over HTTP with an advertised fixed-window limit, then a second run with nothing
changed.

Reports the requests per record, the first run's wall time beside the floor the advertised
limit sets (requests ÷ limit × window), the most requests in one window, 429s, and the
requests (and writes) of the second run. `BENCH_VISMANET_CUSTOMERS`, `_ITEMS`, `_INVOICES`
change the data size; `BENCH_VISMANET_LIMIT` and `BENCH_VISMANET_WINDOW` (seconds) the
limit the fake advertises (default 1,000 per 10 s).
"""

import os
import time
from decimal import Decimal

from bench.harness import bench_database

CUSTOMERS = int(os.environ.get("BENCH_VISMANET_CUSTOMERS", "1000"))
ITEMS = int(os.environ.get("BENCH_VISMANET_ITEMS", "500"))
INVOICES = int(os.environ.get("BENCH_VISMANET_INVOICES", "1000"))
ROWS = 5
LIMIT = int(os.environ.get("BENCH_VISMANET_LIMIT", "1000"))
WINDOW = float(os.environ.get("BENCH_VISMANET_WINDOW", "10"))


def _world(server):
    from django.conf import settings
    from django_scopes import scope, scopes_disabled

    from integrations.connectors import connector_for
    from integrations.models import Connection, ConnectionStatus
    from integrations.oauth import callback_url
    from integrations.tokens import tokens_store
    from integrations.vismanet.fake import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from records.models import (
        BusinessUnit,
        CostCentre,
        Customer,
        CustomerAddress,
        CustomerInvoice,
        CustomerInvoiceRow,
        Product,
        Unit,
    )
    from severa import clock
    from tests.factories import InvoiceStatusFactory, TenantFactory, connection_create_for

    settings.VISMANET_API_URL = server.api_url
    settings.VISMANET_CONNECT_URL = server.connect_url
    settings.VISMANET_CLIENT_ID = DEFAULT_CLIENT_ID
    settings.VISMANET_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
    fake = server.fake
    fake.segment_add(1, "Avdeling", length=2)
    fake.segment_add(2, "Kostnadssted", length=3)
    for n in range(5):
        fake.segment_value_add(1, f"{10 + n}", f"Avdeling {n}")
        fake.segment_value_add(2, f"{100 + n}", f"Kostnadssted {n}")
    with scopes_disabled():
        tenant = TenantFactory(country="NO", language="nb")
        send = InvoiceStatusFactory(tenant=tenant, name="Send til Visma.net")
        received = InvoiceStatusFactory(tenant=tenant, name="I Visma.net")
        units = [
            BusinessUnit.objects.create(tenant=tenant, code=f"A{n}", name=f"Avd {n}")
            for n in range(6)
        ]
        centres = [
            CostCentre.objects.create(tenant=tenant, code=f"K{n}", name=f"Kst {n}")
            for n in range(6)
        ]
        connection = connection_create_for(
            tenant,
            system="visma_net",
            send_status_id=send.pk,
            received_status_id=received.pk,
            transfer_all_customers=True,
            # Five of six departments and cost centres matched; the sixth stays empty.
            system_settings={
                "segments": {
                    "department_segment": 1,
                    "cost_centre_segment": 2,
                    "business_units": {
                        str(unit.pk): f"{10 + n}" for n, unit in enumerate(units[:5])
                    },
                    "cost_centres": {
                        str(centre.pk): f"{100 + n}" for n, centre in enumerate(centres[:5])
                    },
                }
            },
        )
        unit = Unit.objects.create(tenant=tenant, code="TIME", name="Time")
        products = Product.objects.bulk_create(
            Product(
                tenant=tenant,
                code=str(10_000 + n),
                name=f"Tjeneste {n}",
                unit=unit,
                price=Decimal(1000),
                vat_rate=Decimal(25),
            )
            for n in range(ITEMS)
        )
        customers = Customer.objects.bulk_create(
            Customer(
                tenant=tenant,
                number=str(100_000 + n),
                name=f"Kunde {n} AS",
                vat_number="",
                organisation_number="",
            )
            for n in range(CUSTOMERS)
        )
        CustomerAddress.objects.bulk_create(
            CustomerAddress(
                tenant=tenant,
                customer=customer,
                kind="invoice",
                street=f"Storgata {n}",
                postal_code="0150",
                city="Oslo",
                country="NO",
            )
            for n, customer in enumerate(customers)
        )
        invoices = CustomerInvoice.objects.bulk_create(
            CustomerInvoice(
                tenant=tenant,
                customer=customers[n % len(customers)],
                status=send,
                number=f"{50_000 + n}",
                invoice_date=clock.today(),
                currency="NOK",
            )
            for n in range(INVOICES)
        )
        CustomerInvoiceRow.objects.bulk_create(
            CustomerInvoiceRow(
                tenant=tenant,
                invoice=invoice,
                position=row,
                product=products[(n + row) % len(products)],
                description=f"Linje {row}",
                quantity=Decimal(row + 1),
                unit_price=Decimal(1000),
                vat_rate=(Decimal(25), Decimal(15), Decimal(12), Decimal(0), Decimal(25))[row],
                business_unit=units[(n + row) % len(units)],
                cost_centre=centres[(n + 2 * row) % len(centres)],
            )
            for n, invoice in enumerate(invoices)
            for row in range(ROWS)
        )
    code = fake.issue_code(redirect_uri=callback_url())
    tokens = connector_for("visma_net").exchange_code(code, callback_url())
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
        from integrations.ratelimit import RedisAdvertisedLimiter
        from integrations.vismanet.fake import (
            DEFAULT_CLIENT_ID,
            DEFAULT_COMPANY,
            FakeVismaNetServer,
        )

        RedisAdvertisedLimiter(f"vismanet:{DEFAULT_CLIENT_ID}:{DEFAULT_COMPANY}").reset()
        with FakeVismaNetServer(seed=1, rate_limit=LIMIT, rate_window=WINDOW) as server:
            fake = server.fake
            _tenant, connection = _world(server)
            fake.log.clear()

            first, first_seconds = _run(connection)
            first_requests = fake.requests()
            first_max = fake.max_in_window()
            records = CUSTOMERS + ITEMS + INVOICES
            floor = len(first_requests) / LIMIT * WINDOW
            company = fake.company()
            segmented = sum(
                1
                for invoice in company.records["customerinvoice"].values()
                for line in invoice["invoiceLines"]
                if line["subaccount"]
                and all(s["segmentValue"] for s in line["subaccount"]["segments"])
            )

            fake.log.clear()
            second, second_seconds = _run(connection)
            second_requests = fake.requests()
            return {
                "customers": CUSTOMERS,
                "items": ITEMS,
                "invoices": INVOICES,
                "rows_per_invoice": ROWS,
                "advertised_limit": f"{LIMIT} per {WINDOW:g} s",
                "first_run_status": first.status,
                "first_run_counts": first.counts,
                "created_in_visma_net": {
                    "customers": len(company.records["customer"]),
                    "items": len(company.records["inventory"]),
                    "invoices": len(company.records["customerinvoice"]),
                    "lines_with_both_segments": segmented,
                },
                "first_run_requests": len(first_requests),
                "first_run_writes": sum(1 for r in first_requests if r.is_write),
                "requests_per_record": round(len(first_requests) / records, 3),
                "first_run_seconds": round(first_seconds, 1),
                "rate_limit_floor_seconds": round(floor, 1),
                "wall_vs_floor": round(first_seconds / floor, 3),
                "max_requests_in_one_window": first_max,
                "http_429": sum(1 for r in first_requests if r.status == 429),
                "second_run_status": second.status,
                "second_run_requests": len(second_requests),
                "second_run_writes": sum(1 for r in second_requests if r.is_write),
                "second_run_seconds": round(second_seconds, 1),
            }
