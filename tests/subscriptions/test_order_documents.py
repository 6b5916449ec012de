"""The order confirmation document (DESIGN §3.6, §3.7): its PDF, what it shows, and the
stored order's immutability."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from pypdf import PdfReader

from subscriptions.documents import (
    LocalStaticFetcher,
    order_confirmation_html,
    order_confirmation_pdf,
    order_summary_read,
)
from subscriptions.models import OrderConfirmation, OrderKind, OrderLine
from tests.factories import ORDER_LINES, MembershipFactory, OrderConfirmationFactory

pytestmark = pytest.mark.django_db


class PdfText:
    """A PDF's extracted text, searched with whitespace ignored: text extraction puts spaces
    where kerning leaves gaps ("T ermination"), and Babel writes no-break spaces."""

    def __init__(self, pdf: bytes) -> None:
        reader = PdfReader(io.BytesIO(pdf))
        self.text = "\n".join(page.extract_text() for page in reader.pages)
        self._squeezed = re.sub(r"\s+", "", self.text)

    def __contains__(self, needle: str) -> bool:
        return re.sub(r"\s+", "", needle) in self._squeezed

    def __repr__(self) -> str:
        return repr(self.text)


def pdf_text(pdf: bytes) -> PdfText:
    return PdfText(pdf)


@pytest.fixture
def order(tenant, unscoped):
    confirmer = MembershipFactory(tenant=tenant, role="admin").user
    confirmer.first_name, confirmer.last_name = "Aino", "Aalto"
    confirmer.save()
    return OrderConfirmationFactory(tenant=tenant, confirmed_by=confirmer)


def test_the_pdf_is_one_a4_page_with_every_line_the_totals_and_the_number(order):
    pdf = order_confirmation_pdf(order=order)

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    # A4 is 210 × 297 mm = 595.28 × 841.89 pt.
    assert (round(float(width)), round(float(height))) == (595, 842)
    text = pdf_text(pdf)
    assert order.number in text
    assert f"{order.tenant_id}-0001" in text
    for line in ORDER_LINES:
        assert line["description"] in text
    # 111.52 + 78.07 = 189.59 net; VAT 25.5 % = 48.345… → 48.35; total 237.94 (English).
    assert "€189.59" in text
    assert "€48.35" in text
    assert "€237.94" in text
    assert "Aino Aalto" in text
    assert "5 Jun 2025" in text  # the date, and each line's period start


def test_the_pdf_shows_seller_buyer_scheduled_changes_and_the_next_period(order):
    text = pdf_text(order_confirmation_pdf(order=order))

    seller = order.seller_snapshot
    for value in (seller["name"], seller["business_id"], seller["vat_number"], "Keilaranta 1"):
        assert value in text
    assert "02150 Espoo" in text
    assert order.tenant.name in text
    assert "Mannerheimintie 12" in text
    assert "00100 Helsinki" in text
    assert "FI15728600" in text
    assert "Changes taking effect later" in text
    assert "File storage down to 10 GB" in text
    assert "1 Aug 2025" in text
    assert "Power BI reporting" in text
    assert "Next full period" in text
    assert "Professional, 7 seats" in text
    assert "€756.00" in text
    assert "€948.78" in text


def test_money_and_dates_follow_the_tenants_language(tenant, unscoped):
    tenant.language = "fi"
    tenant.save()
    order = OrderConfirmationFactory(tenant=tenant)

    text = pdf_text(order_confirmation_pdf(order=order))

    assert "237,94 €" in text
    assert "5.6.2025" in text
    assert "25,5" in text  # the VAT rate
    assert "Suomi" in text  # the countries, named in Finnish


def test_a_renewal_without_scheduled_changes_or_next_period_still_renders(tenant, unscoped):
    order = OrderConfirmationFactory(
        tenant=tenant,
        kind=OrderKind.RENEWAL,
        summary={"state": {"edition": "professional", "seats": 5}},
        buyer_snapshot={"name": "Bare Buyer Oy", "country": "SE"},
        vat_category="AE",
        vat_rate=Decimal("0.00"),
        vat_note="Reverse charge: VAT Directive 2006/112/EC article 196",
    )

    text = pdf_text(order_confirmation_pdf(order=order))

    assert "Bare Buyer Oy" in text
    assert "Sweden" in text
    assert "Reverse charge: VAT Directive 2006/112/EC article 196" in text
    assert "Changes taking effect later" not in text
    assert "Next full period" not in text
    assert "€189.59" in text  # net = total at 0 %


def test_a_termination_order_with_no_lines_renders(tenant, unscoped):
    order = OrderConfirmationFactory(
        tenant=tenant,
        line_specs=(),
        summary={
            "scheduled": [
                {
                    "kind": "termination",
                    "description": "Termination of the subscription",
                    "effective_date": "2025-08-01",
                }
            ],
            "removed_add_ons": [],
            "next_period": None,
        },
    )

    text = pdf_text(order_confirmation_pdf(order=order))

    assert "Nothing is charged now." in text
    assert "Termination of the subscription" in text
    assert "€0.00" in text


def test_a_typical_order_with_eight_lines_stays_on_one_page(tenant, unscoped):
    specs = [
        {
            "description": f"Line {n}: a description of reasonable length",
            "unit_price": "10.00",
            "quantity": n,
            "net": f"{n * 10}.00",
        }
        for n in range(1, 9)
    ]
    order = OrderConfirmationFactory(tenant=tenant, line_specs=specs)

    reader = PdfReader(io.BytesIO(order_confirmation_pdf(order=order)))

    assert len(reader.pages) == 1


def test_the_document_loads_only_local_static_files(order):
    html = order_confirmation_html(order=order)
    assert 'href="css/documents.css"' in html
    fetcher = LocalStaticFetcher()
    response = fetcher.fetch(fetcher_url("css/documents.css"))
    assert response.content_type == "text/css"
    for refused in (
        "https://example.com/x.css",
        "http://127.0.0.1:8000/static/css/app.css",
        "file:///etc/passwd",
        fetcher_url("../severa/settings/base.py"),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(refused)


def fetcher_url(relative: str) -> str:
    from subscriptions.documents import BASE_URL

    return BASE_URL + relative


def test_a_summary_with_missing_or_odd_keys_reads_as_empty_parts():
    assert order_summary_read(summary={}).is_empty
    assert order_summary_read(summary=None).is_empty
    summary = order_summary_read(
        summary={
            "scheduled": [{"kind": "seats", "description": "Seats down to 3"}, "junk"],
            "removed_add_ons": None,
            "next_period": {"net": "10.00", "vat": "2.55", "total": "12.55"},
        }
    )
    assert [(s.kind_label, s.description, s.effective_date) for s in summary.scheduled] == [
        ("Seats", "Seats down to 3", None)
    ]
    assert summary.removed_add_ons == ()
    assert summary.next_period.lines == ()
    assert summary.next_period.vat == Decimal("2.55")
    assert summary.next_period.start is None


def test_the_next_period_reads_the_order_services_vat_amount(order):
    upcoming = order_summary_read(summary=order.summary).next_period
    assert (upcoming.start, upcoming.end) == (
        datetime.date(2025, 8, 1),
        datetime.date(2025, 10, 31),
    )
    assert (upcoming.net, upcoming.vat, upcoming.total) == (
        Decimal("756.00"),
        Decimal("192.78"),
        Decimal("948.78"),
    )
    assert [line.quantity for line in upcoming.lines] == [7, 7]


def test_a_confirmed_order_and_its_lines_cannot_be_changed(order):
    order_id, total = order.pk, order.total
    order.total = Decimal("1.00")
    with pytest.raises(ValueError, match="cannot be changed"):
        order.save()
    with pytest.raises(ValueError, match="cannot be changed"):
        order.save(update_fields=["total"])
    with pytest.raises(ValueError, match="cannot be changed"):
        order.save(update_fields=["total", "pdf"])
    line = order.lines.first()
    line.net = Decimal("0.00")
    with pytest.raises(ValueError, match="cannot be changed"):
        line.save()
    with scopes_disabled():
        assert OrderConfirmation.objects.get(pk=order_id).total == total == Decimal("237.94")
        assert OrderLine.objects.get(pk=line.pk).net == Decimal("111.52")
