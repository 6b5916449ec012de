"""The Finnish VAT change of 2024-09-01 (24 % → 25.5 %): the rate is the one valid on the
invoice date, so August's invoice carries 24 %, the September renewal's invoice 25.5 %, and a
credit note of the August invoice issued in September credits it at its own 24 %.

Test catalog: Professional 30.00 EUR per seat per month.
"""

import datetime
from decimal import Decimal

import pytest

from billing.issuing import credit_note_issue
from billing.models import Invoice
from severa import clock
from subscriptions.services import subscription_create
from tests.factories import SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date


def test_invoices_follow_the_rate_of_their_date_across_2024_09_01(live_until):
    catalog_create()
    tenant = TenantFactory(name="Muutos Oy")
    seller = SellerEntityFactory()
    with clock.frozen(D(2024, 8, 1)):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency="EUR",
            edition="professional",
            seats=2,
            storage_gb=10,
            period_months=1,
            first_period_start=D(2024, 8, 1),
            actor=None,
        )
    live_until(D(2024, 8, 1))
    live_until(D(2024, 9, 2))

    august, september = Invoice.objects.order_by("number")
    # Monday 5 August: 2 × 30.00 = 60.00 at 24 % = 14.40.
    assert (august.invoice_date, august.net, august.vat, august.total) == (
        D(2024, 8, 5),
        Decimal("60.00"),
        Decimal("14.40"),
        Decimal("74.40"),
    )
    assert {line.vat_rate for line in august.lines.all()} == {Decimal("24.00")}
    # The renewal of Sunday 1 September, on Monday 2 September: 60.00 at 25.5 % = 15.30.
    assert (september.invoice_date, september.net, september.vat, september.total) == (
        D(2024, 9, 2),
        Decimal("60.00"),
        Decimal("15.30"),
        Decimal("75.30"),
    )
    assert {line.vat_rate for line in september.lines.all()} == {Decimal("25.50")}
    assert [line.period_start for line in september.lines.all()] == [D(2024, 9, 1)]

    # Crediting August's invoice on 10 September keeps its 24 %, and takes the next number
    # of the same series.
    with clock.frozen(D(2024, 9, 10)):
        note = credit_note_issue(invoice=august, lines=None, actor=None)
    assert (note.kind, note.number, note.series) == ("credit_note", 3, august.series)
    assert (note.invoice_date, note.net, note.vat, note.total) == (
        D(2024, 9, 10),
        Decimal("-60.00"),
        Decimal("-14.40"),
        Decimal("-74.40"),
    )
    assert note.credited_invoice_id == august.pk
