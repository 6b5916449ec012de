"""A first period in the future: a company provisioned on Wednesday 7 May 2025 whose first
period is 1.8.–31.10.2025 gets its activation order at once, but nothing is invoiced until
the period has started; the first invoicing run on or after 1 August (Monday 4 August)
invoices it, a seat added inside the period follows on the next Monday, and the renewal of
1 November on Monday 3 November.

Test catalog: Professional 30.00 EUR per seat per month, 10 GB storage included; FI VAT
25.5 %; payment terms 14 days.
"""

import datetime
from decimal import Decimal

import pytest

from billing.models import BillingRun, Invoice
from severa import clock
from subscriptions.models import OrderConfirmation, OrderKind, Subscription
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date


def _amounts(invoice):
    return (invoice.invoice_date, invoice.number, invoice.net, invoice.vat, invoice.total)


def test_a_future_first_period_is_invoiced_after_it_starts_and_then_like_any_other(
    live_until,
):
    catalog_create()
    tenant = TenantFactory(name="Tuleva Oy")
    with clock.frozen(D(2025, 5, 7)):
        subscription_create(
            tenant=tenant,
            seller=SellerEntityFactory(),
            currency="EUR",
            edition="professional",
            seats=5,
            storage_gb=10,
            period_months=3,
            first_period_start=D(2025, 8, 1),
            actor=None,
        )
    [activation] = OrderConfirmation.objects.all()
    assert (activation.kind, activation.made_on, activation.net) == (
        OrderKind.ACTIVATION,
        D(2025, 5, 7),
        Decimal("450.00"),
    )

    # Every Monday from 12 May to 28 July runs and invoices nothing.
    live_until(D(2025, 5, 7))
    live_until(D(2025, 7, 31))
    mondays = BillingRun.objects.filter(kind="invoicing", run_date__lte=D(2025, 7, 31))
    assert [run.run_date for run in mondays.order_by("run_date")][:2] == [
        D(2025, 5, 12),
        D(2025, 5, 19),
    ]
    assert mondays.count() == 12
    assert all(run.counts["invoices"] == 0 for run in mondays)
    assert not Invoice.objects.exists()

    # The first run on or after 1 August: Monday 4 August, 5 seats × 30.00 × 3 months.
    live_until(D(2025, 8, 4))
    [first] = Invoice.objects.all()
    assert _amounts(first) == (
        D(2025, 8, 4),
        1,
        Decimal("450.00"),
        Decimal("114.75"),
        Decimal("564.75"),
    )
    assert first.due_date == D(2025, 8, 18)
    assert [(line.period_start, line.period_end) for line in first.lines.all()] == [
        (D(2025, 8, 1), D(2025, 10, 31))
    ]

    # A seat added on 20 August covers 20.8.–31.10. = 73 of 92 days:
    # 30.00 × 3 × 73 / 92 = 71.41, VAT 18.21; invoiced on Monday 25 August.
    with clock.frozen(D(2025, 8, 20)):
        quote = quote_create(
            subscription=Subscription.objects.get(tenant=tenant),
            desired=Desired(seats=6),
            actor=None,
        )
        quote_confirm(quote=quote, actor=None)
    live_until(D(2025, 8, 25))
    seat = Invoice.objects.get(number=2)
    assert _amounts(seat) == (
        D(2025, 8, 25),
        2,
        Decimal("71.41"),
        Decimal("18.21"),
        Decimal("89.62"),
    )

    # The renewal of 1 November for the six seats, on Monday 3 November.
    live_until(D(2025, 11, 3))
    renewal = Invoice.objects.get(number=3)
    assert _amounts(renewal) == (
        D(2025, 11, 3),
        3,
        Decimal("540.00"),
        Decimal("137.70"),
        Decimal("677.70"),
    )
    assert Invoice.objects.count() == 3
