"""A termination at the period's end: asked for in May, it takes effect on 1 June; the
rollover ends the subscription instead of renewing it, and nothing more is invoiced.

Test catalog: Professional 30.00 EUR per seat per month; FI VAT 25.5 %.
"""

import datetime
from decimal import Decimal

import pytest

from billing.models import BillingRun, Invoice
from severa import clock
from subscriptions.models import OrderConfirmation, OrderKind, Subscription, SubscriptionStatus
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date


def test_a_termination_ends_the_subscription_at_the_period_end_with_no_renewal(live_until):
    catalog_create()
    tenant = TenantFactory(name="Lopetus Oy")
    with clock.frozen(D(2025, 5, 1)):
        subscription = subscription_create(
            tenant=tenant,
            seller=SellerEntityFactory(),
            currency="EUR",
            edition="professional",
            seats=3,
            storage_gb=10,
            period_months=1,
            first_period_start=D(2025, 5, 1),
            actor=None,
        )
    live_until(D(2025, 5, 1))
    live_until(D(2025, 5, 19))
    with clock.frozen(D(2025, 5, 20)):
        quote = quote_create(
            subscription=Subscription.objects.get(pk=subscription.pk),
            desired=Desired(terminate=True),
            actor=None,
        )
        quote_confirm(quote=quote, actor=None)
    live_until(D(2025, 7, 7))

    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.TERMINATED
    # It keeps its last period, May.
    assert (subscription.period_start, subscription.period_end) == (
        D(2025, 5, 1),
        D(2025, 5, 31),
    )
    rollover = BillingRun.objects.get(kind="rollover", run_date=D(2025, 6, 1))
    assert (rollover.counts["terminated"], rollover.counts["renewal_orders"]) == (1, 0)
    assert not OrderConfirmation.objects.filter(kind=OrderKind.RENEWAL).exists()
    # One invoice only: May's activation, on Monday 5 May (3 × 30.00 = 90.00, VAT 22.95);
    # the Mondays of June and July invoice nothing.
    [invoice] = Invoice.objects.all()
    assert (invoice.invoice_date, invoice.net, invoice.vat, invoice.total) == (
        D(2025, 5, 5),
        Decimal("90.00"),
        Decimal("22.95"),
        Decimal("112.95"),
    )
    for monday in (D(2025, 6, 2), D(2025, 6, 30), D(2025, 7, 7)):
        run = BillingRun.objects.get(kind="invoicing", run_date=monday)
        assert run.counts["invoices"] == 0
