"""Credit and reissue: a full credit note and a new invoice of the same lines, numbered
next in the seller's series, linking each other; the weekly run still invoices each order
line once. Figures from the test catalog (Professional 30.00 EUR / 330.00 SEK per seat per
month)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from billing import issuing
from billing.invoicing import InvoicingError
from billing.issuing import credit_note_issue, invoice_reissue, invoices_issue
from billing.models import Invoice, InvoiceLine, InvoiceState
from severa import clock
from subscriptions.models import OrderLine
from tests.billing.test_invoicing import _run, _subscribed
from tests.factories import SellerEntityFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]


def _invoiced(day: datetime.date, **kwargs) -> Invoice:
    _subscribed(**kwargs)
    with clock.frozen(day):
        invoices_issue(billing_run=_run(day), invoice_date=day)
    return Invoice.objects.get()


def test_reissue_credits_in_full_and_issues_the_same_lines_next_in_the_series(
    django_capture_on_commit_callbacks, monkeypatch
):
    delivered = []
    monkeypatch.setattr(issuing, "invoice_issued", lambda invoice: delivered.append(invoice.pk))
    # 3 seats × 30.00 = 90.00, 25.5 % = 22.95 → 112.95.
    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    with clock.frozen(datetime.date(2024, 9, 10)), django_capture_on_commit_callbacks(execute=True):
        note, new = invoice_reissue(invoice=invoice, actor=None, reason="Wrong rounding")
    assert (note.kind, note.credited_invoice_id) == ("credit_note", invoice.pk)
    assert (note.net, note.vat, note.total) == (
        Decimal("-90.00"),
        Decimal("-22.95"),
        Decimal("-112.95"),
    )
    assert (new.kind, new.net, new.vat, new.total) == (
        "invoice",
        Decimal("90.00"),
        Decimal("22.95"),
        Decimal("112.95"),
    )
    assert (note.number, new.number) == (invoice.number + 1, invoice.number + 2)
    assert note.series == new.series == invoice.series
    assert new.invoice_date == datetime.date(2024, 9, 10)
    assert new.due_date == datetime.date(2024, 9, 10) + datetime.timedelta(
        days=invoice.seller.payment_terms_days
    )
    # The two link each other.
    assert Invoice.objects.get(pk=new.pk).reissue_credit_note_id == note.pk
    assert Invoice.objects.get(pk=note.pk).reissue.pk == new.pk
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.CREDITED
    old_line = invoice.lines.get()
    new_line = new.lines.get()
    assert new_line.order_line_id is None
    assert new_line.reissued_order_line_id == old_line.order_line_id
    assert (new_line.quantity, new_line.unit_price, new_line.net) == (
        Decimal("3.00"),
        Decimal("30.00"),
        Decimal("90.00"),
    )
    assert (new_line.period_start, new_line.period_end) == (
        old_line.period_start,
        old_line.period_end,
    )
    # Both are delivered like any issued document.
    assert sorted(delivered) == [note.pk, new.pk]


def test_the_new_invoice_takes_the_vat_of_its_own_date():
    # Issued at 24 %: 90.00 + 21.60 = 111.60; reissued after the change at 25.5 %.
    invoice = _invoiced(datetime.date(2024, 8, 5), seats=3)
    with clock.frozen(datetime.date(2024, 9, 2)):
        note, new = invoice_reissue(invoice=invoice, actor=None)
    assert note.total == Decimal("-111.60")
    assert (new.vat, new.total) == (Decimal("22.95"), Decimal("112.95"))
    assert new.lines.get().vat_rate == Decimal("25.5")


def test_reissue_with_cash_rounding():
    # SE seller and buyer, 25 %: 330.00 + 82.50 = 412.50 → 413.00 (+0.50 rounding).
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301", cash_rounding=True
    )
    tenant = TenantFactory(country="SE", business_id="5567321707", vat_number="SE556732170701")
    invoice = _invoiced(
        datetime.date(2024, 9, 2), tenant=tenant, seller=seller, currency="SEK", seats=1
    )
    with clock.frozen(datetime.date(2024, 9, 9)):
        note, new = invoice_reissue(invoice=invoice, actor=None)
    assert (note.rounding, note.total) == (Decimal("-0.50"), Decimal("-413.00"))
    assert (new.net, new.vat, new.rounding, new.total) == (
        Decimal("330.00"),
        Decimal("82.50"),
        Decimal("0.50"),
        Decimal("413.00"),
    )


def test_the_run_still_invoices_each_order_line_once_after_a_reissue():
    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    day = datetime.date(2024, 9, 9)
    with clock.frozen(day):
        invoice_reissue(invoice=invoice, actor=None)
        tally = invoices_issue(billing_run=_run(day), invoice_date=day)
    assert tally.counts["invoices"] == 0
    assert Invoice.objects.filter(kind="invoice").count() == 2
    order_line = OrderLine.objects.get()
    assert InvoiceLine.objects.filter(order_line=order_line).count() == 1


def test_a_second_reissue_is_refused_and_changes_nothing():
    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    with clock.frozen(datetime.date(2024, 9, 9)):
        _note, new = invoice_reissue(invoice=invoice, actor=None)
        with pytest.raises(InvoicingError, match=f"already reissued as {new.display_number}"):
            invoice_reissue(invoice=invoice, actor=None)
        # In the reader's language.
        with (
            translation.override("fi"),
            pytest.raises(
                InvoicingError, match=f"on jo laskutettu uudelleen laskuna {new.display_number}"
            ),
        ):
            invoice_reissue(invoice=invoice, actor=None)
    assert Invoice.objects.count() == 3


def test_a_credit_note_or_a_credited_invoice_cannot_be_reissued():
    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    line = invoice.lines.get()
    with clock.frozen(datetime.date(2024, 9, 9)):
        note = credit_note_issue(invoice=invoice, lines={line.pk: Decimal("30.00")}, actor=None)
        with pytest.raises(InvoicingError, match="not a credit note"):
            invoice_reissue(invoice=note, actor=None)
        with pytest.raises(InvoicingError, match="already credited"):
            invoice_reissue(invoice=invoice, actor=None)
    assert Invoice.objects.count() == 2


def test_a_reissued_invoice_can_itself_be_reissued():
    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    with clock.frozen(datetime.date(2024, 9, 9)):
        _note, new = invoice_reissue(invoice=invoice, actor=None)
        _second_note, newest = invoice_reissue(invoice=new, actor=None)
    assert newest.number == invoice.number + 4
    assert newest.lines.get().reissued_order_line_id == invoice.lines.get().order_line_id


def test_the_reader_of_both_documents_sees_which_replaces_which():
    from django.template.loader import render_to_string

    from billing.documents import invoice_document, invoice_pdf
    from tests.subscriptions.test_order_documents import pdf_text

    invoice = _invoiced(datetime.date(2024, 9, 2), seats=3)
    with clock.frozen(datetime.date(2024, 9, 10)):
        note, new = invoice_reissue(invoice=invoice, actor=None, reason="Wrong rounding")

    def page(document: Invoice) -> str:
        # The tenant's invoice page and the e-mailed link's page show the same part.
        context = {"document": invoice_document(invoice=document), "invoice": document}
        return render_to_string("billing/_invoice.html", context)

    assert (
        f"Replaces invoice {invoice.display_number}, credited in full by credit note "
        f"{note.display_number}." in page(new)
    )
    assert f"Invoice {new.display_number} replaces the credited invoice." in page(note)
    assert "Replaces invoice" not in page(invoice)
    text = pdf_text(invoice_pdf(invoice=new))
    assert "Replaces invoice" in text and note.display_number in text
    assert "Replaced by invoice" in pdf_text(invoice_pdf(invoice=note))
