"""A seller migration cohort: the subscriptions of Severa Norge AS whose next period starts
on 2025-05-01 move to Visma Solutions Oy. The daily runs send the notice 30 days ahead,
switch the seller on the cohort's day before the renewal is ordered, and the next Monday's
invoice comes from the new entity, in its own number series, in NOK, to its NOK account;
the old entity's series stays as it was.

Test catalog: Professional 340.00 NOK per seat per month.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from billing.migration import seller_migration_schedule
from billing.models import (
    BillingContact,
    Invoice,
    SellerBankAccount,
    SellerMigrationStatus,
    TermsVersion,
)
from severa import clock
from subscriptions.models import OrderConfirmation, OrderKind, Subscription
from subscriptions.services import subscription_create
from tests.factories import SellerEntityFactory, TenantFactory, catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date
COHORT = D(2025, 5, 1)


def _sellers():
    norge = SellerEntityFactory(
        name="Severa Norge AS",
        business_id="974760673",
        vat_number="NO974760673MVA",
        country="NO",
        invoice_series="SN",
        bank_accounts=[],
    )
    SellerBankAccount.objects.create(
        seller=norge, currency="NOK", iban="NO9386011117947", bic="DNBANOKK"
    )
    solutions = SellerEntityFactory(
        name="Visma Solutions Oy",
        business_id="1967543-8",
        vat_number="FI19675438",
        invoice_series="VS",
        terms_version="2025-03",
        bank_accounts=[],
    )
    SellerBankAccount.objects.create(
        seller=solutions, currency="NOK", iban="NO6681014453075", bic="DABANO22"
    )
    TermsVersion.objects.create(
        seller=solutions,
        version="2025-03",
        title="Visma Solutions Oy: terms of service",
        text="Terms of service.",
        published_on=D(2025, 3, 1),
    )
    return norge, solutions


def _norwegian(name, seller, start):
    tenant = TenantFactory(
        name=name, country="NO", business_id="923609016", vat_number="NO923609016MVA"
    )
    BillingContact.objects.create(
        tenant=tenant, email=f"faktura@{name.split()[0].lower()}.example", created_at=clock.now()
    )
    with clock.frozen(start):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency="NOK",
            edition="professional",
            seats=3,
            storage_gb=10,
            period_months=3,
            first_period_start=start,
            actor=None,
        )
    return tenant


def test_a_cohort_is_told_switched_and_invoiced_by_the_new_entity(operator, live_until):
    catalog_create()
    norge, solutions = _sellers()
    # In the cohort: the quarter 2025-02-01..04-30. Not in it: its next period starts 06-01.
    fjord = _norwegian("Fjord Prosjekt AS", norge, D(2025, 2, 1))
    bergen = _norwegian("Bergen Bygg AS", norge, D(2025, 3, 1))
    live_until(D(2025, 2, 1))
    live_until(D(2025, 3, 19))
    with clock.frozen(D(2025, 3, 20)):
        migration = seller_migration_schedule(
            from_seller=norge, to_seller=solutions, cohort_start=COHORT, actor=operator
        )
    live_until(D(2025, 3, 31))
    assert mail.outbox == []
    # The notice goes out on 1 April, 30 days before the cohort.
    live_until(D(2025, 4, 1))
    assert [message.to for message in mail.outbox] == [["faktura@fjord.example"]]
    assert "Visma Solutions Oy" in mail.outbox[0].subject

    live_until(D(2025, 5, 5))
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.DONE
    assert Subscription.objects.get(tenant=fjord).seller == solutions
    assert Subscription.objects.get(tenant=bergen).seller == norge
    renewal = OrderConfirmation.objects.get(tenant=fjord, kind=OrderKind.RENEWAL)
    assert (renewal.seller, renewal.renewal_period_start) == (solutions, COHORT)

    # Severa Norge AS invoiced the activations (Monday 3 February, Monday 3 March) as SN 1
    # and SN 2; Visma Solutions Oy invoices the May renewal on Monday 5 May as VS 1:
    # 3 seats × 340.00 × 3 months = 3060.00 NOK, a Finnish seller to a Norwegian business,
    # outside the scope of EU VAT.
    assert [
        (i.seller.name, i.display_number, i.invoice_date, i.net, i.vat)
        for i in Invoice.objects.filter(tenant=fjord).order_by("invoice_date")
    ] == [
        ("Severa Norge AS", "SN-1", D(2025, 2, 3), Decimal("3060.00"), Decimal("765.00")),
        ("Visma Solutions Oy", "VS-1", D(2025, 5, 5), Decimal("3060.00"), Decimal("0.00")),
    ]
    new = Invoice.objects.get(seller=solutions)
    assert (new.currency, new.seller_snapshot["iban"]) == ("NOK", "NO6681014453075")
    assert new.lines.get().vat_category == "O"
    assert sorted(Invoice.objects.filter(seller=norge).values_list("number", flat=True)) == [1, 2]
