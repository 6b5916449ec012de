"""The first Visma eEkonomi sync of a tenant with 1,000 customers and 500 articles (Severa →
the fake eEkonomi over HTTP) at eEkonomi's real rate limit (600 requests a minute per client
and endpoint, shared in Redis), then a second run with nothing changed.

Reports the requests made per record, the first run's wall time beside the floor the limit
sets (per endpoint: every 600 requests past the first 600 wait a minute; the floor is that
of the busiest endpoint), the most requests to one endpoint in any minute, 429s, and the
requests (and writes) of the second run. `BENCH_EEKONOMI_CUSTOMERS` and
`BENCH_EEKONOMI_ARTICLES` change the data size. Takes a little over a minute at full size.
"""

import os
import time
import uuid
from collections import Counter

from bench.harness import bench_database

CUSTOMERS = int(os.environ.get("BENCH_EEKONOMI_CUSTOMERS", "1000"))
ARTICLES = int(os.environ.get("BENCH_EEKONOMI_ARTICLES", "500"))
LIMIT, WINDOW = 600, 60.0


def _world(server, client_id: str, secret: str):
    from django.conf import settings
    from django_scopes import scope, scopes_disabled

    from integrations.connectors import connector_for
    from integrations.models import Connection, ConnectionStatus
    from integrations.oauth import callback_url
    from integrations.tokens import tokens_store
    from records.models import Customer, CustomerAddress, Product, Unit
    from severa import clock
    from tests.factories import InvoiceStatusFactory, TenantFactory, connection_create_for

    settings.EACCOUNTING_API_URL = server.api_url
    settings.EACCOUNTING_AUTH_URL = server.auth_url
    settings.EACCOUNTING_TOKEN_URL = server.token_url
    settings.EACCOUNTING_REVOKE_URL = server.revoke_url
    settings.EACCOUNTING_CLIENT_ID = client_id
    settings.EACCOUNTING_CLIENT_SECRET = secret
    with scopes_disabled():
        tenant = TenantFactory(country="SE", language="sv")
        send = InvoiceStatusFactory(tenant=tenant, name="Skicka")
        received = InvoiceStatusFactory(tenant=tenant, name="I eEkonomi")
        connection = connection_create_for(
            tenant,
            system="visma_eekonomi",
            send_status_id=send.pk,
            received_status_id=received.pk,
            transfer_all_customers=True,
        )
        unit = Unit.objects.create(tenant=tenant, code="h", name="Timme")
        Product.objects.bulk_create(
            Product(tenant=tenant, code=str(10_000 + n), name=f"Tjänst {n}", unit=unit)
            for n in range(ARTICLES)
        )
        customers = Customer.objects.bulk_create(
            Customer(
                tenant=tenant,
                number=str(100_000 + n),
                name=f"Kund {n} AB",
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
    code = server.fake.issue_code(client_id=client_id, redirect_uri=callback_url())
    tokens = connector_for("visma_eekonomi").exchange_code(code, callback_url())
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


def _floor(requests) -> float:
    """Seconds the limit forces: per endpoint, a minute for every full 600 requests after the
    first; the busiest endpoint's."""
    from integrations.eaccounting.fake.app import _endpoint

    per_endpoint = Counter(_endpoint(entry.path) for entry in requests)
    return max(((count - 1) // LIMIT) * WINDOW for count in per_endpoint.values())


def main() -> dict:
    with bench_database():
        from integrations.eaccounting.fake import FakeEAccountingServer

        # A client id of its own: the limiter's Redis log holds no other run's requests.
        client_id, secret = f"bench-{uuid.uuid4().hex[:8]}", "bench-secret"
        with FakeEAccountingServer(seed=1, clients={client_id: secret}) as server:
            fake = server.fake
            _tenant, connection = _world(server, client_id, secret)
            fake.log.clear()

            first, first_seconds = _run(connection)
            first_requests = fake.requests()
            company = fake.company()
            floor = _floor(first_requests)
            first_max = fake.max_in_window()

            fake.log.clear()
            second, second_seconds = _run(connection)
            second_requests = fake.requests()
            return {
                "customers": CUSTOMERS,
                "articles": ARTICLES,
                "first_run_status": first.status,
                "first_run_counts": {k: v for k, v in first.counts.items() if v},
                "created_in_eekonomi": {
                    "customers": len(company.records["customers"]),
                    "articles": len(company.records["articles"]),
                },
                "first_run_requests": len(first_requests),
                "first_run_requests_by_endpoint": dict(
                    Counter(entry.path.split("/")[2] for entry in first_requests)
                ),
                "first_run_writes": sum(1 for r in first_requests if r.is_write),
                "requests_per_record": round(len(first_requests) / (CUSTOMERS + ARTICLES), 3),
                "first_run_seconds": round(first_seconds, 1),
                "rate_limit_floor_seconds": round(floor, 1),
                "wall_minus_floor_seconds": round(first_seconds - floor, 1),
                "max_requests_to_one_endpoint_in_any_60s": first_max,
                "http_429": sum(1 for r in first_requests if r.status == 429),
                "second_run_status": second.status,
                "second_run_requests": len(second_requests),
                "second_run_writes": sum(1 for r in second_requests if r.is_write),
                "second_run_seconds": round(second_seconds, 1),
            }
