"""The seed story (help centre): "if your billing period is 1.5.–31.7.2025 and you add a
user on 5.6.2025, the invoice will cover 5.6.–31.7.2025 for this new user", invoiced by the
weekly run in the week after the order confirmation; the next period renews the six seats.

Test catalog: Professional 30.00 EUR per seat per month, 10 GB storage included; FI VAT
25.5 %; payment terms 14 days.
"""

import datetime
from decimal import Decimal

import pytest

from billing.models import Invoice
from severa import clock
from subscriptions.models import OrderConfirmation, Subscription
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date


def _amounts(invoice):
    return (invoice.invoice_date, invoice.number, invoice.net, invoice.vat, invoice.total)


def test_a_seat_added_on_5_june_is_invoiced_on_monday_9_june_for_57_of_92_days(live_until):
    catalog_create()
    tenant = TenantFactory(name="Seed Oy")
    with clock.frozen(D(2025, 5, 1)):
        subscription_create(
            tenant=tenant,
            seller=SellerEntityFactory(),
            currency="EUR",
            edition="professional",
            seats=5,
            storage_gb=10,
            period_months=3,
            first_period_start=D(2025, 5, 1),
            actor=None,
        )
    live_until(D(2025, 5, 1))
    live_until(D(2025, 6, 4))
    # The activation, Thursday 1 May, on Monday 5 May: 5 seats × 30.00 × 3 months.
    [activation] = Invoice.objects.all()
    assert _amounts(activation) == (
        D(2025, 5, 5),
        1,
        Decimal("450.00"),
        Decimal("114.75"),
        Decimal("564.75"),
    )

    subscription = Subscription.objects.get(tenant=tenant)
    with clock.frozen(D(2025, 6, 5)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=None)
        quote_confirm(quote=quote, actor=None)
    live_until(D(2025, 6, 8))
    assert Invoice.objects.count() == 1  # not before the Monday
    live_until(D(2025, 6, 9))

    invoice = Invoice.objects.get(invoice_date=D(2025, 6, 9))
    [line] = invoice.lines.all()
    # 30.00 × 3 months × 1 seat × 57/92 days = 55.76; VAT 25.5 % = 14.22.
    assert (line.period_start, line.period_end, line.quantity, line.net) == (
        D(2025, 6, 5),
        D(2025, 7, 31),
        Decimal("1.00"),
        Decimal("55.76"),
    )
    assert _amounts(invoice) == (
        D(2025, 6, 9),
        2,
        Decimal("55.76"),
        Decimal("14.22"),
        Decimal("69.98"),
    )
    assert invoice.due_date == D(2025, 6, 23)

    # On 1 August the rollover renews the six seats for the whole quarter, invoiced on
    # Monday 4 August: 6 × 30.00 × 3 = 540.00, VAT 137.70.
    live_until(D(2025, 8, 4))
    renewal = OrderConfirmation.objects.get(renewal_period_start=D(2025, 8, 1))
    assert renewal.made_on == D(2025, 8, 1)
    august = Invoice.objects.get(invoice_date=D(2025, 8, 4))
    assert _amounts(august) == (
        D(2025, 8, 4),
        3,
        Decimal("540.00"),
        Decimal("137.70"),
        Decimal("677.70"),
    )
    assert [(line.period_start, line.period_end) for line in august.lines.all()] == [
        (D(2025, 8, 1), D(2025, 10, 31))
    ]
    # Every order invoiced once, and nothing is left in the run's queue.
    assert not OrderConfirmation.objects.filter(invoiced=False, net__gt=0).exists()
