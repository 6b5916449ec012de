"""The same choices on the same day against the same subscription give back the open
Agreement already made, never a copy; anything else makes a new one."""

from datetime import date

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from severa import clock
from subscriptions.models import Quote
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import MembershipFactory, SubscriptionFactory, TenantFactory, catalog_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    with scopes_disabled():
        catalog_create()
        tenant = TenantFactory()
        admin = MembershipFactory(tenant=tenant, role="admin").user
        other = MembershipFactory(tenant=tenant, role="admin").user
        subscription = SubscriptionFactory(
            tenant=tenant,
            seats=5,
            period_months=12,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        )
        with clock.frozen(date(2026, 12, 7)):
            yield subscription, admin, other


def test_the_same_choices_give_back_the_open_agreement(world):
    subscription, admin, other = world
    first = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
    again = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
    assert again.pk == first.pk
    assert quote_create(
        subscription=subscription, desired=Desired(seats=8), actor=admin
    ).pk not in (first.pk,)
    # Another admin gets an Agreement of their own.
    assert (
        quote_create(subscription=subscription, desired=Desired(seats=9), actor=other).pk
        != first.pk
    )
    assert Quote.objects.count() == 3


def test_after_a_confirmation_the_same_choices_make_a_new_agreement(world):
    subscription, admin, _other = world
    first = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
    quote_confirm(quote=first, actor=admin)
    second = quote_create(subscription=subscription, desired=Desired(seats=12), actor=admin)
    again = quote_create(subscription=subscription, desired=Desired(seats=12), actor=admin)
    assert second.pk != first.pk and again.pk == second.pk
    assert second.subscription_version == first.subscription_version + 1


def test_an_agreement_rolled_back_is_never_given_back(world):
    subscription, admin, _other = world
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
        raise RuntimeError("rolled back")
    kept = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
    assert kept.pk != lost.pk
    assert list(Quote.objects.values_list("pk", flat=True)) == [kept.pk]
