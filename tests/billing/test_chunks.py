"""A run's work shared among workers (billing/chunks.py): each chunk claimed by one worker,
done once, and taken over when its worker dies; numbering gap-free throughout.

Test catalog: Professional 30.00 EUR per seat per month; FI VAT 25.5 % since 2024-09-01.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing import rollover
from billing.chunks import chunks_plan
from billing.issuing import invoicing_plan
from billing.models import (
    BillingRunChunk,
    BillingRunKind,
    BillingRunStatus,
    Invoice,
    InvoiceCounter,
)
from billing.rollover import rollover_chunks_plan, rollover_run
from billing.run_records import run_begin
from billing.runs import invoicing_run, run_help
from billing.tasks import helpers_queue, run_chunks_help
from severa import clock
from subscriptions.models import Edition, OrderConfirmation, OrderKind
from tests.factories import SellerEntityFactory, SubscriptionFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date
DAY = D(2025, 9, 1)  # a Monday and a quarter's start


def _quarterly(count, seller=None):
    catalog_create()
    seller = seller or SellerEntityFactory()
    professional = Edition.objects.get(code="professional")
    return [
        SubscriptionFactory(
            seller=seller,
            edition=professional,
            period_start=D(2025, 6, 1),
            period_end=D(2025, 8, 31),
        )
        for _ in range(count)
    ]


def test_a_run_is_planned_once_per_attempt_in_chunks_of_the_due_work():
    subscriptions = _quarterly(5)
    run = run_begin(kind=BillingRunKind.ROLLOVER, run_date=DAY)
    ids = sorted(s.pk for s in subscriptions)
    assert chunks_plan(run, lambda: rollover_chunks_plan(DAY, 2)) == 3
    # A second worker of the same attempt joins the open chunks instead of planning more.
    assert chunks_plan(run, lambda: rollover_chunks_plan(DAY, 2)) == 3
    assert [c.items for c in BillingRunChunk.objects.filter(run=run)] == [
        ids[0:2],
        ids[2:4],
        ids[4:5],
    ]


def test_a_recipients_orders_are_never_split_between_chunks():
    subscriptions = _quarterly(3)
    rollover_run(on=DAY, deliver=False)
    # One renewal order per tenant, one tenant per chunk.
    chunks = invoicing_plan(invoice_date=DAY, batch_size=1)
    by_tenant = {
        tenant_id: sorted(
            OrderConfirmation.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True)
        )
        for tenant_id in sorted(s.tenant_id for s in subscriptions)
    }
    assert [sorted(chunk) for chunk in chunks] == [
        orders for orders in by_tenant.values() if orders
    ]


@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_distinct_chunks_at_once_and_renew_each_subscription_once(
    monkeypatch,
):
    """Two helpers join a planned rollover of 8 subscriptions in chunks of 2; each holds a
    chunk while the other claims one (both wait at a barrier inside their first chunk), so
    SKIP LOCKED hands them different chunks."""
    subscriptions = _quarterly(8)
    run = run_begin(kind=BillingRunKind.ROLLOVER, run_date=DAY)
    assert chunks_plan(run, lambda: rollover_chunks_plan(DAY, 2)) == 4
    barrier = threading.Barrier(2)
    local = threading.local()
    real_batch = rollover._rollover_batch

    def batch_after_the_other_worker_holds_a_chunk(batch, context):
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=30)
        return real_batch(batch, context)

    monkeypatch.setattr(rollover, "_rollover_batch", batch_after_the_other_worker_holds_a_chunk)
    failures = []

    def worker():
        try:
            run_help(run_id=run.pk, deliver=False)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    with clock.frozen(DAY):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # Neither broke the barrier: each held a chunk of its own while the other claimed one.
    assert failures == []
    chunks = list(BillingRunChunk.objects.filter(run=run))
    assert [chunk.status for chunk in chunks] == ["done"] * 4
    renewals = OrderConfirmation.objects.filter(kind=OrderKind.RENEWAL)
    assert sorted(renewals.values_list("subscription_id", flat=True)) == sorted(
        s.pk for s in subscriptions
    )
    run.refresh_from_db()
    assert run.counts["renewed"] == run.counts["renewal_orders"] == 8
    assert run.counts["already_done"] == 0


@pytest.mark.django_db(transaction=True)
def test_the_chunk_of_a_worker_that_dies_is_taken_over_and_numbers_stay_gap_free(monkeypatch):
    """A helper claims the first chunk of an invoicing run and dies in it (its transaction
    rolls back, as when the process is killed); the run's own worker invoices the other
    chunks, waits for the dead one's chunk, takes it over and finishes: every tenant
    invoiced once, numbers 1..6."""
    seller = SellerEntityFactory()
    subscriptions = _quarterly(6, seller=seller)
    with clock.frozen(DAY):
        rollover_run(on=DAY, deliver=False)
        run = run_begin(kind=BillingRunKind.INVOICING, run_date=DAY)
        assert chunks_plan(run, lambda: invoicing_plan(invoice_date=DAY, batch_size=2)) == 3
    from billing import runs

    holding = threading.Event()
    real_issue = runs.invoices_issue_orders

    def dies_in_its_chunk(**kwargs):
        if threading.current_thread().name == "doomed":
            real_issue(**kwargs)  # numbers taken, invoices written, not committed
            holding.set()
            threading.Event().wait(1.0)
            raise RuntimeError("worker died")
        return real_issue(**kwargs)

    monkeypatch.setattr(runs, "invoices_issue_orders", dies_in_its_chunk)
    died = []

    def doomed():
        try:
            run_help(run_id=run.pk, deliver=False)
        except RuntimeError as error:
            died.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=doomed, name="doomed")
    with clock.frozen(DAY):
        thread.start()
        assert holding.wait(timeout=30)
        finished = invoicing_run(day=DAY, deliver=False)
        thread.join()
    assert len(died) == 1
    assert finished.status == BillingRunStatus.FINISHED
    assert finished.counts["invoices"] == 6
    assert Invoice.objects.count() == 6
    assert sorted(Invoice.objects.values_list("tenant_id", flat=True)) == sorted(
        s.tenant_id for s in subscriptions
    )
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, 7))
    assert InvoiceCounter.objects.get(seller=seller).next_number == 7
    assert set(BillingRunChunk.objects.filter(run=run).values_list("status", flat=True)) == {"done"}
    # Each invoice: the quarter's renewal, 5 seats × 30.00 × 3 months = 450.00, dated
    # 2025-09-01.
    assert {(i.invoice_date, i.net) for i in Invoice.objects.all()} == {(DAY, Decimal("450.00"))}


def test_the_daily_task_queues_helpers_for_every_chunk_beyond_the_first(settings, monkeypatch):
    settings.BILLING_RUN_HELPERS = 3
    queued = []
    monkeypatch.setattr(run_chunks_help, "delay", lambda **kwargs: queued.append(kwargs))
    run = run_begin(kind=BillingRunKind.ROLLOVER, run_date=DAY)
    assert helpers_queue(run, 1) == 0
    assert helpers_queue(run, 2) == 1
    assert helpers_queue(run, 40) == 3
    assert queued == [{"run_id": run.pk, "deliver": True}] * 4
    settings.BILLING_RUN_HELPERS = 0
    assert helpers_queue(run, 40) == 0
