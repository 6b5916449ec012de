"""Issuing invoices: VAT by the invoice date, cash rounding, numbering, credit notes and
payments (DESIGN §3.4, §3.5). Orders come from the real services; figures are worked out
beside each assertion from the test catalog (Professional 30.00 EUR / 330.00 SEK per seat per
month)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from billing import issuing
from billing.invoice_status import invoice_status_move, invoices_mark_overdue
from billing.invoicing import InvoicingError, payment_register
from billing.issuing import credit_note_issue, invoice_draft, invoice_drafts_issue, invoices_issue
from billing.models import BillingRun, Invoice, InvoiceCounter, InvoiceLine, InvoiceState
from billing.references import is_valid_finnish_reference, is_valid_swedish_ocr
from billing.run_records import RunTally
from severa import clock
from subscriptions.models import OrderConfirmation
from subscriptions.services import subscription_create
from tests.factories import OperatorFactory, SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]


def _run(day: datetime.date) -> BillingRun:
    run, _ = BillingRun.objects.get_or_create(
        kind="invoicing", run_date=day, defaults={"started_at": clock.now()}
    )
    return run


def _subscribed(
    *,
    tenant=None,
    seller=None,
    currency="EUR",
    seats=2,
    start=datetime.date(2024, 8, 1),
    months=1,
    on=None,
):
    catalog_create()
    tenant = tenant or TenantFactory()
    seller = seller or SellerEntityFactory()
    with clock.frozen(on or start):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency=currency,
            edition="professional",
            seats=seats,
            storage_gb=10,
            period_months=months,
            first_period_start=start,
            actor=None,
        )
    return tenant, seller


@pytest.mark.parametrize(
    ("invoice_date", "rate", "vat"),
    [
        # 2 seats × 30.00 = 60.00 net; 24 % = 14.40 before the change, 25.5 % = 15.30 after.
        (datetime.date(2024, 8, 31), Decimal("24"), Decimal("14.40")),
        (datetime.date(2024, 9, 1), Decimal("25.5"), Decimal("15.30")),
    ],
)
def test_finnish_domestic_vat_follows_the_invoice_date(invoice_date, rate, vat):
    _subscribed()
    with clock.frozen(invoice_date):
        counts = invoices_issue(billing_run=_run(invoice_date), invoice_date=invoice_date)
    assert counts.counts == {"orders": 1, "invoices": 1, "already_done": 0}
    invoice = Invoice.objects.get()
    assert invoice.net == Decimal("60.00")
    assert invoice.vat == vat
    assert invoice.total == Decimal("60.00") + vat
    assert {line.vat_rate for line in invoice.lines.all()} == {rate}
    assert invoice.due_date == invoice_date + datetime.timedelta(days=14)
    assert is_valid_finnish_reference(invoice.reference)
    line = invoice.lines.get()
    assert (line.period_start, line.period_end) == (
        datetime.date(2024, 8, 1),
        datetime.date(2024, 8, 31),
    )


def test_swedish_seller_to_a_finnish_business_is_reverse_charged():
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301"
    )
    _subscribed(seller=seller)
    day = datetime.date(2024, 9, 2)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()
    assert invoice.vat == 0
    assert invoice.lines.get().vat_category == "AE"
    assert "reverse charge" in invoice.vat_note.lower()
    assert is_valid_swedish_ocr(invoice.reference)


def test_finnish_seller_to_a_norwegian_business_is_outside_eu_vat():
    tenant = TenantFactory(country="NO", business_id="974760673", vat_number="NO974760673MVA")
    _subscribed(tenant=tenant, currency="NOK")
    day = datetime.date(2024, 9, 2)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()
    assert (invoice.vat, invoice.lines.get().vat_category) == (0, "O")
    assert invoice.vat_note


@pytest.mark.parametrize(
    ("seats", "rounding", "total"),
    [
        # SE seller, SE buyer, 25 %. 1 seat: 330.00 + 82.50 = 412.50 → 413 (+0.50).
        (1, Decimal("0.50"), Decimal("413.00")),
    ],
)
def test_sek_cash_rounding_is_a_separate_amount(seats, rounding, total):
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301", cash_rounding=True
    )
    tenant = TenantFactory(country="SE", business_id="5567321707", vat_number="SE556732170701")
    _subscribed(tenant=tenant, seller=seller, currency="SEK", seats=seats)
    day = datetime.date(2024, 9, 2)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()
    assert invoice.rounding == rounding
    assert invoice.total == total
    assert invoice.net + invoice.vat + invoice.rounding == invoice.total
    assert sum(line.net for line in invoice.lines.all()) == invoice.net


def test_a_run_twice_invoices_nothing_twice():
    _subscribed()
    day = datetime.date(2024, 8, 5)
    with clock.frozen(day):
        first = invoices_issue(billing_run=_run(day), invoice_date=day)
        second = invoices_issue(billing_run=_run(day), invoice_date=day)
        later = invoices_issue(billing_run=_run(day + datetime.timedelta(days=7)), invoice_date=day)
    assert first.counts["invoices"] == 1
    assert second.counts["invoices"] == later.counts["invoices"] == 0
    assert Invoice.objects.count() == 1


def test_one_invoice_per_tenant_and_seller_covers_every_order():
    tenant, seller = _subscribed()
    from subscriptions.models import Subscription
    from subscriptions.services import Desired, quote_confirm, quote_create

    subscription = Subscription.objects.get(tenant=tenant)
    with clock.frozen(datetime.date(2024, 8, 16)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=3), actor=None)
        quote_confirm(quote=quote, actor=None)
    day = datetime.date(2024, 8, 19)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()
    # The activation (60.00) and one seat from the 16th: 30.00 × 16/31 = 15.48.
    assert [line.net for line in invoice.lines.all()] == [Decimal("60.00"), Decimal("15.48")]
    assert invoice.lines.all()[1].period_start == datetime.date(2024, 8, 16)
    assert OrderConfirmation.objects.filter(lines__invoice_line__isnull=True).count() == 0


def test_partial_and_whole_credit_notes():
    _subscribed(seats=3)  # 90.00 net, 24 % on 2024-08-05 = 21.60 → 111.60
    day = datetime.date(2024, 8, 5)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
        invoice = Invoice.objects.get()
        line = invoice.lines.get()
        note = credit_note_issue(invoice=invoice, lines={line.pk: Decimal("30.00")}, actor=None)
        assert note.kind == "credit_note"
        assert note.credited_invoice == invoice
        assert (note.net, note.vat, note.total) == (
            Decimal("-30.00"),
            Decimal("-7.20"),
            Decimal("-37.20"),
        )
        assert note.number == invoice.number + 1
        with pytest.raises(InvoicingError, match="60.00 EUR left to credit"):
            credit_note_issue(invoice=invoice, lines={line.pk: Decimal("61.00")}, actor=None)
        rest = credit_note_issue(invoice=invoice, lines=None, actor=None)
    assert rest.net == Decimal("-60.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.CREDITED
    assert invoice.credited_amount == invoice.total


def test_issued_invoices_are_immutable():
    _subscribed()
    day = datetime.date(2024, 8, 5)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()
    invoice.total = Decimal("1.00")
    with pytest.raises(ValueError, match="cannot be changed"):
        invoice.save()


def test_payments_and_overdue():
    _subscribed()
    day = datetime.date(2024, 8, 5)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    invoice = Invoice.objects.get()  # 74.40, due 2024-08-19
    assert invoices_mark_overdue(on=datetime.date(2024, 8, 19)) == 0
    assert invoices_mark_overdue(on=datetime.date(2024, 8, 20)) == 1
    with pytest.raises(InvoicingError, match="exceeds"):
        payment_register(
            invoice=invoice, amount=Decimal("80"), paid_on=day, reference="", actor=None
        )
    payment_register(invoice=invoice, amount=Decimal("40"), paid_on=day, reference="", actor=None)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.OVERDUE
    payment_register(
        invoice=invoice, amount=Decimal("34.40"), paid_on=day, reference="", actor=None
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.PAID


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_workers_number_one_series_without_gaps(monkeypatch):
    """Eight threads, each with its own connection, issue invoices for 40 tenants of one
    seller at once, each a batch of one of the one issuing path; every tenth issue fails
    after taking its number and rolls back."""
    seller = SellerEntityFactory()
    tenants = [_subscribed(seller=seller)[0] for _ in range(40)]
    day = datetime.date(2024, 8, 5)
    run = _run(day)
    orders = {
        tenant.pk: list(issuing.uninvoiced_orders(up_to=day).filter(tenant=tenant))
        for tenant in tenants
    }
    # Read once: every attempt drafts the same lines, so the repeats collide.
    lines = {
        tenant_id: issuing.order_lines_to_invoice(order_ids=[order.pk for order in tenant_orders])
        for tenant_id, tenant_orders in orders.items()
    }
    work = list(tenants)
    lock = threading.Lock()
    failures = []
    # Every tenth tenant's first issue fails after its number was taken (while writing the
    # lines): the rollback must hand the number back.
    doomed = {tenant.pk for tenant in tenants[::10]}
    real_bulk_insert = issuing.bulk_insert

    def failing_bulk_insert(objects):
        if isinstance(objects[0], InvoiceLine):
            tenant_id = objects[0].tenant_id
            with lock:
                fail = tenant_id in doomed
                doomed.discard(tenant_id)
            if fail:
                raise RuntimeError("injected failure")
        return real_bulk_insert(objects)

    monkeypatch.setattr(issuing, "bulk_insert", failing_bulk_insert)
    injected = []
    tallies = []

    def worker():
        tally = RunTally.of(*issuing.INVOICING_COUNTS)
        tallies.append(tally)
        try:
            with scopes_disabled():
                while True:
                    with lock:
                        if not work:
                            return
                        tenant = work.pop()
                    # Every tenant is attempted three times: the duplicates must be absorbed.
                    for _attempt in range(3):
                        draft = invoice_draft(
                            orders=orders[tenant.pk],
                            invoice_date=day,
                            billing_run=run,
                            order_lines=lines[tenant.pk],
                        )
                        try:
                            invoice_drafts_issue(
                                seller=seller,
                                drafts=[draft],
                                tally=tally,
                                billing_run=run,
                                deliver=False,
                            )
                        except RuntimeError:
                            injected.append(tenant.pk)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    # The clock is process-wide: freeze it around the threads, never inside them.
    with clock.frozen(day):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(injected) == 4
    # 40 issued; of the 120 attempts, 4 failed and 76 found the invoice issued already.
    assert sum(t.counts["invoices"] for t in tallies) == 40
    assert sum(t.counts["already_done"] for t in tallies) == 76
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 41))
    assert InvoiceCounter.objects.get(seller=seller).next_number == 41


def _invoiced(day=datetime.date(2024, 8, 5)) -> Invoice:
    """One invoice of 74.40 EUR dated 2024-08-05, due 2024-08-19."""
    _subscribed()
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    return Invoice.objects.get()


def _moves(invoice):
    """The invoice's audited status moves, oldest first: (action, actor kind, from)."""
    with scopes_disabled():
        return [
            (event.action, event.actor_kind, event.details.get("from"))
            for event in AuditEvent.objects.filter(
                subject_type="billing.invoice", subject_id=str(invoice.pk)
            )
            .exclude(action="invoice.issued")
            .order_by("pk")
        ]


def test_each_status_moves_only_from_the_statuses_that_allow_it():
    invoice = _invoiced()
    operator = OperatorFactory()
    paid_at = clock.now()
    assert invoice_status_move(invoice=invoice, to=InvoiceState.PAID, actor=operator, at=paid_at)
    assert _moves(invoice) == [("invoice.paid", "operator", "issued")]
    # Paid is never overdue, never paid twice, never sent again: nothing changes, nothing
    # is audited.
    assert invoices_mark_overdue(on=datetime.date(2024, 9, 1)) == 0
    assert not invoice_status_move(invoice=invoice, to=InvoiceState.PAID, actor=None)
    assert not invoice_status_move(invoice=invoice, to=InvoiceState.SENT, actor=None)
    stored = Invoice.objects.get()
    assert (stored.status, stored.paid_at, stored.sent_at) == (InvoiceState.PAID, paid_at, None)
    assert _moves(invoice) == [("invoice.paid", "operator", "issued")]
    assert invoice_status_move(invoice=invoice, to=InvoiceState.CREDITED, actor=None)
    assert not invoice_status_move(invoice=invoice, to=InvoiceState.CREDITED, actor=None)
    assert not invoice_status_move(invoice=invoice, to=InvoiceState.PAID, actor=None)
    assert Invoice.objects.get().status == InvoiceState.CREDITED
    assert _moves(invoice) == [
        ("invoice.paid", "operator", "issued"),
        ("invoice.credited", "system", "paid"),
    ]
    # The status is not a field `save` writes: it moves only through the transitions.
    invoice.status = InvoiceState.OVERDUE
    with pytest.raises(ValueError, match="cannot be changed"):
        invoice.save(update_fields=["status"])


def test_the_overdue_marking_is_one_update_and_one_insert_of_its_audit_that_load_no_invoice():
    invoice = _invoiced()  # due 2024-08-19
    with CaptureQueriesContext(connection) as queries:
        assert invoices_mark_overdue(on=datetime.date(2024, 8, 20)) == 1
    sql = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert [statement.split(" ")[:3] for statement in sql] == [
        ["UPDATE", '"billing_invoice"', "SET"],
        ["INSERT", "INTO", '"accounts_auditevent"'],
    ]
    assert Invoice.objects.get().status == InvoiceState.OVERDUE
    assert _moves(invoice) == [("invoice.overdue", "system", None)]


@pytest.mark.django_db(transaction=True)
def test_a_payment_committing_while_the_overdue_run_marks_is_never_overwritten():
    """The payment holds the invoice's row (registered, not committed yet) when the overdue
    marking of 2024-08-20 starts on the invoice due 2024-08-19: the marking waits for the
    row, then sees it paid and leaves it."""
    invoice = _invoiced()
    payment_locked = threading.Event()
    commit_payment = threading.Event()
    marked: list[int] = []
    failures: list[BaseException] = []

    def pay():
        try:
            with scopes_disabled(), transaction.atomic():
                payment_register(
                    invoice=invoice,
                    amount=Decimal("74.40"),
                    paid_on=datetime.date(2024, 8, 19),
                    reference="bank",
                    actor=None,
                )
                payment_locked.set()
                assert commit_payment.wait(10)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
            payment_locked.set()
        finally:
            connection.close()

    def mark_overdue():
        try:
            with scopes_disabled():
                marked.append(invoices_mark_overdue(on=datetime.date(2024, 8, 20)))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    marker = threading.Thread(target=mark_overdue)
    payer.start()
    assert payment_locked.wait(10)
    marker.start()
    # The marking is now waiting for the payment's row lock (or has read the invoice).
    marker.join(1)
    commit_payment.set()
    payer.join(10)
    marker.join(10)
    assert failures == []
    assert marked == [0]
    stored = Invoice.objects.get()
    assert stored.status == InvoiceState.PAID
    assert stored.payments.count() == 1
