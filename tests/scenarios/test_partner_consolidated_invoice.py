"""A partner that pays its customers' subscriptions gets one consolidated invoice per seller
per weekly run: the customers' seat additions in June on the Monday after, and both
customers' renewals of August on the Monday after the rollover; lines grouped customer by
customer, VAT decided by the partner as the buyer (a Swedish business buying from a Finnish
seller: reverse charge); the customers get no invoice.

Test catalog: Professional 30.00 EUR per seat per month.
"""

import datetime
from decimal import Decimal

import pytest

from billing.models import BillingDetails, Invoice
from severa import clock
from subscriptions.models import Subscription
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import (
    PartnerFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    TenantFactory,
    catalog_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date


def test_one_invoice_for_the_partner_with_every_customers_lines(live_until):
    catalog_create()
    seller = SellerEntityFactory()
    partner = PartnerFactory(name="Nordic Reseller AB", country="SE", business_id="5560360793")
    BillingDetails.objects.create(
        partner=partner,
        street_address="Drottninggatan 1",
        postal_code="111 51",
        city="Stockholm",
        country="SE",
        vat_number="SE556036079301",
        updated_at=clock.now(),
    )
    # Named so that the invoice's order (by customer name) is not the creation order.
    customers = [TenantFactory(name="Berg Oy"), TenantFactory(name="Aalto Oy")]
    own = TenantFactory(name="Itse Oy")
    for tenant in customers:
        # 5 seats, the quarter 2025-05-01..07-31, paid by the partner.
        SubscriptionFactory(tenant=tenant, seller=seller, invoice_partner=partner)
    SubscriptionFactory(tenant=own, seller=seller)
    live_until(D(2025, 6, 4))
    with clock.frozen(D(2025, 6, 5)):
        for tenant in [*customers, own]:
            subscription = Subscription.objects.get(tenant=tenant)
            quote = quote_create(subscription=subscription, desired=Desired(seats=7), actor=None)
            quote_confirm(quote=quote, actor=None)
    live_until(D(2025, 6, 9))

    # 2 seats × 30.00 × 3 months × 57/92 days = 111.52 per customer.
    june = Invoice.objects.get(partner=partner, invoice_date=D(2025, 6, 9))
    assert june.tenant_id is None
    assert [(line.tenant.name, line.net) for line in june.lines.order_by("position")] == [
        ("Aalto Oy", Decimal("111.52")),
        ("Berg Oy", Decimal("111.52")),
    ]
    assert (june.net, june.vat, june.total) == (
        Decimal("223.04"),
        Decimal("0.00"),
        Decimal("223.04"),
    )
    assert {line.vat_category for line in june.lines.all()} == {"AE"}
    assert "reverse charge" in june.vat_note.lower()
    assert june.buyer_snapshot["name"] == "Nordic Reseller AB"
    # The customer who pays for itself gets its own invoice, with Finnish VAT: 111.52 +
    # 25.5 % = 28.44.
    mine = Invoice.objects.get(tenant=own)
    assert (mine.net, mine.vat) == (Decimal("111.52"), Decimal("28.44"))
    assert not Invoice.objects.filter(tenant__in=customers).exists()

    # The rollover of 1 August renews both customers' 7 seats for the quarter (7 × 30.00 ×
    # 3 = 630.00 each); the partner's invoice of Monday 4 August has both.
    live_until(D(2025, 8, 4))
    august = Invoice.objects.get(partner=partner, invoice_date=D(2025, 8, 4))
    assert [
        (line.tenant.name, line.period_start, line.period_end, line.net)
        for line in august.lines.order_by("position")
    ] == [
        ("Aalto Oy", D(2025, 8, 1), D(2025, 10, 31), Decimal("630.00")),
        ("Berg Oy", D(2025, 8, 1), D(2025, 10, 31), Decimal("630.00")),
    ]
    assert (august.net, august.vat, august.total) == (
        Decimal("1260.00"),
        Decimal("0.00"),
        Decimal("1260.00"),
    )
    # One series for all of the seller's invoices, without gaps: June's two, August's two.
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
