"""A Fortnox sync under injected faults completes without duplicates or gaps; a run with
nothing changed writes nothing; two workers of one connection stay within Fortnox's rate
limit (25 requests in any 5 seconds)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django_scopes import scope, scopes_disabled

from integrations.engine import sync_entities
from integrations.fortnox.connector import client_for
from integrations.fortnox.fake import Faults
from integrations.fortnox.sync.context import FortnoxContext
from integrations.fortnox.sync.customers import CustomerAdapter
from integrations.fortnox.sync.products import ProductAdapter
from integrations.models import SyncRun, SyncRunStatus, SyncTrigger
from records.models import CustomerInvoice
from severa import clock
from tests.factories import (
    CustomerAddressFactory,
    CustomerFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
    ProjectFactory,
    UnitFactory,
)
from tests.integrations.fortnox.sync_helpers import log, records_of, sync, writes


def business_data(tenant, statuses, *, customers=12, products=8, projects=4, invoices=4):
    with scopes_disabled():
        unit = UnitFactory(tenant=tenant, code="h", name="Hour")
        made = []
        for index in range(customers):
            customer = CustomerFactory(
                tenant=tenant, number=str(10_000 + index), name=f"Customer {index} Oy"
            )
            CustomerAddressFactory(customer=customer)
            made.append(customer)
        for index in range(products):
            ProductFactory(tenant=tenant, code=str(500 + index), name=f"Service {index}", unit=unit)
        for index in range(projects):
            ProjectFactory(tenant=tenant, customer=made[index], number=f"PR{index}")
        for index in range(invoices):
            invoice = CustomerInvoiceFactory(
                tenant=tenant,
                customer=made[index],
                status=statuses["Send to Fortnox"],
                number=f"F{index}",
            )
            CustomerInvoiceRowFactory(invoice=invoice, unit_price=Decimal(10 + index))
    return made


@pytest.mark.django_db
def test_a_sync_under_twenty_percent_faults_completes_without_duplicates(
    tenant, statuses, make_connection, fake
):
    business_data(tenant, statuses)
    connection = make_connection()
    # One request in five fails: 500s, timeouts (applied, answered too late), lost answers
    # of writes (applied, connection dropped), and 429s on top.
    fake.faults = Faults(
        error_rate=0.07, timeout_rate=0.05, lost_response_rate=0.08, timeout_seconds=1.5
    )
    fake.inject("429", count=3)
    fake.inject("lost_response", count=2, method="POST", path_prefix="/3/invoices")

    runs = []
    for _attempt in range(8):
        runs.append(sync(connection))
        if runs[-1].status == SyncRunStatus.SUCCEEDED:
            break

    assert runs[-1].status == SyncRunStatus.SUCCEEDED, [(r.status, r.error) for r in runs]
    faults = Counter(entry.fault for entry in fake.requests() if entry.fault)
    assert sum(faults.values()) >= 10, faults
    assert {"error_500", "timeout", "lost_response", "429"} <= set(faults)
    # Nothing missing, nothing twice.
    assert set(records_of(fake, "customers")) == {str(10_000 + i) for i in range(12)}
    assert set(records_of(fake, "articles")) == {str(500 + i) for i in range(8)}
    assert set(records_of(fake, "projects")) == {f"PR{i}" for i in range(4)}
    references = Counter(
        record["ExternalInvoiceReference1"] for record in records_of(fake, "invoices").values()
    )
    with scope(tenant=tenant.pk):
        expected = {
            f"severa-{connection.pk}-invoice-{pk}"
            for pk in CustomerInvoice.objects.values_list("pk", flat=True)
        }
        moved = set(CustomerInvoice.objects.values_list("status__name", flat=True))
    assert set(references) == expected
    assert set(references.values()) == {1}
    assert moved == {"In Fortnox"}


@pytest.mark.django_db
def test_a_second_run_with_no_changes_makes_no_write_request(
    tenant, statuses, make_connection, fake
):
    business_data(tenant, statuses, customers=5, products=4, projects=2, invoices=2)
    connection = make_connection()
    first = sync(connection)
    assert first.status == SyncRunStatus.SUCCEEDED, first.error
    # What was just sent, read back in the same run (numbers as strings in list items), is
    # no change from Fortnox.
    assert [entry for entry in log(first) if entry[:2] == ("product", "to_local")] == []
    before = writes(fake)
    requests_before = len(fake.requests())

    second = sync(connection)

    assert second.status == SyncRunStatus.SUCCEEDED, second.error
    assert writes(fake) == before
    assert log(second) == []
    assert second.counts["unchanged"] > 0
    # Reads only: one listing per entity type, and the paid-invoice check.
    assert len(fake.requests()) - requests_before <= 10


@pytest.mark.django_db(transaction=True)
def test_two_workers_of_one_connection_stay_within_the_rate_limit(
    tenant, statuses, make_connection, fake
):
    with scopes_disabled():
        for index in range(30):
            customer = CustomerFactory(tenant=tenant, number=str(20_000 + index))
            CustomerAddressFactory(customer=customer)
        for index in range(25):
            ProductFactory(tenant=tenant, code=str(700 + index), name=f"Item {index}")
    connection = make_connection()
    with scope(tenant=tenant.pk):
        run = SyncRun.objects.create(
            tenant=tenant,
            connection=connection,
            trigger=SyncTrigger.MANUAL,
            status=SyncRunStatus.RUNNING,
            created_at=clock.now(),
            started_at=clock.now(),
        )
    errors = []

    def worker(adapter_class):
        try:
            with scope(tenant=tenant.pk):
                own_run = SyncRun.objects.select_related("connection").get(pk=run.pk)
                context = FortnoxContext(own_run, client_for(own_run.connection))
                sync_entities(run=own_run, adapters=[adapter_class(context)])
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            db_connection.close()

    threads = [
        threading.Thread(target=worker, args=(CustomerAdapter,)),
        threading.Thread(target=worker, args=(ProductAdapter,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(records_of(fake, "customers")) == 30
    assert len(records_of(fake, "articles")) == 25
    assert len(fake.requests()) > 55  # both workers' requests, over several windows
    assert fake.max_in_window() <= 25
    assert [entry for entry in fake.requests() if entry.status == 429] == []


def test_fortnox_errors_are_the_engines_errors():
    from integrations import errors as engine
    from integrations.fortnox import errors as fortnox

    ambiguous = fortnox.AmbiguousWrite("lost", method="POST", path="customers")
    limited = fortnox.RateLimited("429", retry_after=5.0)
    assert isinstance(ambiguous, engine.AmbiguousWrite)
    assert isinstance(ambiguous, engine.TemporaryError)
    assert isinstance(limited, engine.RateLimited)
    assert limited.retry_after == 5.0
    assert isinstance(fortnox.TemporaryError("500"), engine.TemporaryError)
    assert isinstance(fortnox.Unauthorized("401", status=401), engine.AuthorizationError)
    assert isinstance(fortnox.AuthorizationError("invalid_grant"), engine.AuthorizationError)
    refused = fortnox.Refused("Kunde inte hitta kontot.", status=400, code=2000423)
    assert isinstance(refused, engine.PermanentError)
    assert refused.code == 2000423
    assert isinstance(fortnox.NotFound("404", status=404), engine.PermanentError)
    assert not isinstance(fortnox.TemporaryError("500"), engine.PermanentError)


@pytest.mark.django_db
def test_a_refused_access_token_is_refreshed_once_and_the_run_goes_on(
    tenant, statuses, make_connection, fake
):
    from integrations.encryption import field_decrypt

    business_data(tenant, statuses, customers=2, products=1, projects=0, invoices=0)
    connection = make_connection()
    with scope(tenant=tenant.pk):
        connection.refresh_from_db()
    old_token = field_decrypt(connection.access_token_encrypted)
    fake.expire_access_tokens()  # Fortnox no longer accepts it, whatever its expiry says

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert len(records_of(fake, "customers")) == 2
    with scope(tenant=tenant.pk):
        connection.refresh_from_db()
    assert field_decrypt(connection.access_token_encrypted) != old_token
    refreshes = fake.requests(method="POST", path_prefix="/oauth-v1/token")
    assert len(refreshes) == 2  # the code exchange, then one refresh
