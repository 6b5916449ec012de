"""Invoice and credit note documents (DESIGN §3.5, §3.7): the PDF shows what an invoice must
(parties, lines with their periods, VAT per rate, rounding, reference, due date, bank
details), in the tenant's language, and is rendered once and served as stored."""

import datetime
import io
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from pypdf import PdfReader

from billing import documents
from billing.documents import invoice_document, invoice_html, invoice_pdf, invoice_pdf_bytes
from billing.issuing import credit_note_issue
from billing.models import Invoice
from billing.references import reference_display
from severa import clock
from tests.factories import (
    BillingDetailsFactory,
    SellerEntityFactory,
    TenantFactory,
    invoice_issue_through_services,
)
from tests.subscriptions.test_order_documents import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]


@pytest.fixture
def invoice(tenant):
    """Issued 2024-08-19 by a Finnish seller to a Finnish business: 2 seats for August
    (60.00) and a third seat from the 16th (30.00 × 16/31 = 15.48); 24 % VAT."""
    tenant.business_id, tenant.vat_number = "0112038-9", "FI01120389"
    tenant.save()
    BillingDetailsFactory(tenant=tenant)
    return invoice_issue_through_services(tenant, upgrade_to_seats=3)


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = documents.invoice_pdf

    def counting(*, invoice):
        calls.append(invoice.pk)
        return real(invoice=invoice)

    monkeypatch.setattr(documents, "invoice_pdf", counting)
    return calls


def stored(invoice) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(pk=invoice.pk)


def test_the_invoice_pdf_shows_every_line_with_its_period_and_the_payment_details(invoice):
    # 75.48 net; 24 % VAT 18.12 (18.1152); total 93.60. Due 14 days after 2024-08-19.
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("75.48"),
        Decimal("18.12"),
        Decimal("93.60"),
    )
    pdf = invoice_pdf(invoice=invoice)

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = pdf_text(pdf)
    assert "Invoice" in text
    assert invoice.display_number in text
    # Seller with its ids and bank account; buyer with its address and ids.
    assert invoice.seller_snapshot["name"] in text
    assert "2464491-9" in text and "FI24644919" in text
    assert "Keilaranta 1" in text and "02150 Espoo" in text
    assert "FI21 1234 5600 0007 85" in text
    assert "NDEAFIHH" in text
    assert "Aalto Consulting Oy" in text
    assert "Mannerheimintie 12 B" in text and "00100 Helsinki" in text
    assert "0112038-9" in text and "FI01120389" in text
    # Dates, terms and the reference in groups of five.
    assert "19 Aug 2024" in text
    assert "Due date" in text and "2 Sept 2024" in text
    assert "14 days net" in text
    assert reference_display(invoice.reference, country="FI") in text
    assert " " in reference_display(invoice.reference, country="FI")
    # Lines with their periods, quantities, unit prices, rates and net amounts.
    first, second = invoice.lines.all()
    assert first.description in text and second.description in text
    assert "1 Aug 2024 – 31 Aug 2024" in text
    assert "16 Aug 2024 – 31 Aug 2024" in text
    assert "€60.00" in text and "€15.48" in text
    # The VAT breakdown: one rate, its taxable amount and VAT; then the totals.
    assert "Taxable amount" in text
    assert "24 %" in text
    assert "€75.48" in text and "€18.12" in text
    assert "Total to pay" in text and "€93.60" in text
    assert "Rounding" not in text
    assert "Credit note" not in text


def test_the_vat_breakdown_is_the_one_the_totals_were_computed_with(invoice):
    document = invoice_document(invoice=invoice, language="en")

    [group] = document.vat_groups
    assert (group.category, group.rate, group.taxable, group.vat) == (
        "S",
        Decimal("24.00"),
        Decimal("75.48"),
        Decimal("18.12"),
    )
    assert sum(g.taxable for g in document.vat_groups) == invoice.net
    assert sum(g.vat for g in document.vat_groups) == invoice.vat


def test_sek_cash_rounding_is_shown_as_its_own_amount():
    # SE seller and buyer, 25 %: 1 seat 330.00 + 82.50 = 412.50 → 413.00 (+0.50).
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301", cash_rounding=True
    )
    tenant = TenantFactory(country="SE", business_id="5567321707", vat_number="SE556732170701")
    invoice = invoice_issue_through_services(
        tenant,
        seller=seller,
        currency="SEK",
        seats=1,
        invoice_date=datetime.date(2024, 9, 2),
    )
    assert (invoice.rounding, invoice.total) == (Decimal("0.50"), Decimal("413.00"))

    text = pdf_text(invoice_pdf(invoice=invoice))

    assert "Rounding" in text
    assert "SEK 0.50" in text
    assert "SEK 413.00" in text
    assert "SEK 82.50" in text
    # A Swedish OCR reference is printed as it is.
    assert invoice.reference in text


def test_a_reverse_charged_invoice_carries_the_legal_note():
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301"
    )
    tenant = TenantFactory(business_id="0112038-9", vat_number="FI01120389")
    invoice = invoice_issue_through_services(
        tenant, seller=seller, invoice_date=datetime.date(2024, 9, 2)
    )
    assert invoice.vat == 0 and invoice.vat_note

    text = pdf_text(invoice_pdf(invoice=invoice))

    assert invoice.vat_note in text
    assert "0 %" in text


def test_a_credit_note_says_so_and_references_the_credited_invoice(invoice):
    with clock.frozen(datetime.date(2024, 8, 26)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)

    html = invoice_html(invoice=note)
    text = pdf_text(invoice_pdf(invoice=note))

    assert "Credit note" in text
    assert note.display_number in text
    assert "Credits invoice" in text
    assert f"{invoice.display_number} (19 Aug 2024)" in text
    assert "26 Aug 2024" in text
    assert "Total credited" in text and "-€93.60" in text
    # Nothing to pay on a credit note: no due date and no payment slip.
    assert "Due date" not in text
    assert "Total to pay" not in text
    assert "<h1>Credit note</h1>" in html


def test_money_and_dates_follow_the_tenants_language(invoice, tenant):
    tenant.language = "fi"
    tenant.save()
    invoice = stored(invoice)

    text = pdf_text(invoice_pdf(invoice=invoice))

    assert "93,60 €" in text.text.replace("\xa0", " ")
    assert "19.8.2024" in text
    assert "1.8.2024 – 31.8.2024" in text
    assert "Suomi" in text  # the seller's and buyer's country in Finnish


def test_the_pdf_is_rendered_once_stored_and_then_served_as_stored(invoice, renders):
    assert stored(invoice).pdf is None

    with clock.frozen(datetime.datetime(2024, 8, 19, 7, 0, tzinfo=datetime.UTC)):
        first = invoice_pdf_bytes(invoice=stored(invoice))
    second = invoice_pdf_bytes(invoice=stored(invoice))

    assert first == second
    assert first.startswith(b"%PDF-")
    assert renders == [invoice.pk]
    after = stored(invoice)
    assert bytes(after.pdf) == first
    assert after.pdf_rendered_at == datetime.datetime(2024, 8, 19, 7, 0, tzinfo=datetime.UTC)
    # Storing the PDF changed nothing else of the issued invoice.
    assert (after.total, after.status, after.number) == (invoice.total, "issued", invoice.number)


def test_a_render_that_loses_the_race_keeps_the_first_stored_pdf(invoice, monkeypatch):
    # Another worker stores its PDF while ours renders: theirs stays the document.
    real = documents.invoice_pdf

    def slow_render(*, invoice):
        invoice_ = invoice
        pdf = real(invoice=invoice_)
        with scopes_disabled():
            other = Invoice.objects.get(pk=invoice_.pk)
            other.pdf = b"%PDF-first"
            other.pdf_rendered_at = clock.now()
            other.save(update_fields=["pdf", "pdf_rendered_at"])
        return pdf

    monkeypatch.setattr(documents, "invoice_pdf", slow_render)

    assert invoice_pdf_bytes(invoice=stored(invoice)) == b"%PDF-first"
    assert bytes(stored(invoice).pdf) == b"%PDF-first"


@pytest.mark.parametrize(
    ("reference", "country", "printed"),
    [
        ("100000013", "FI", "1000 00013"),
        ("1000000130", "FI", "10000 00130"),
        ("RF18539007547034", "DE", "RF18 5390 0754 7034"),
        ("RF471000000", "FI", "RF47 1000 000"),
        ("10000001", "SE", "10000001"),
    ],
)
def test_references_are_printed_in_their_groups(reference, country, printed):
    assert reference_display(reference, country=country) == printed
