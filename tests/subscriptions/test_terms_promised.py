"""Terms where they are promised (seed 000): the Upgrades and Agreement pages link the
seller's current terms, the Agreement page says that confirming accepts them, and the order
confirmation records which version."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from severa import clock
from subscriptions.documents import order_confirmation_pdf
from subscriptions.models import OrderConfirmation
from subscriptions.services import Desired, quote_create
from tests.factories import SubscriptionFactory
from tests.subscriptions.test_order_documents import pdf_text

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture
def subscription(tenant):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        subscription.seller.name, subscription.seller.terms_version = "Severa Oy", "2025-04"
        subscription.seller.save()
        return subscription


@pytest.fixture
def signed_in(verified_client, admin_user):
    return verified_client(admin_user)


def test_the_upgrades_page_links_the_sellers_current_terms(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        page = signed_in.get(reverse("tenant_upgrades", args=[tenant.pk])).content.decode()
    assert "The terms of service of Severa Oy (version 2025-04) give the details." in page
    assert f'href="/t/{tenant.pk}/terms/"' in page


def test_confirming_the_agreement_accepts_the_terms_and_the_order_records_the_version(
    signed_in, tenant, subscription, admin_user
):
    with clock.frozen(SEED_DAY), scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
    agreement = reverse("tenant_agreement", args=[tenant.pk, quote.pk])
    with clock.frozen(SEED_DAY):
        page = signed_in.get(agreement).content.decode()
        assert "By confirming you accept the terms of service of Severa Oy (version 2025-04)." in (
            page
        )
        assert f'href="/t/{tenant.pk}/terms/"' in page
        signed_in.post(agreement)
    with scopes_disabled():
        order = OrderConfirmation.objects.get()
        assert order.terms_version == "2025-04"
        assert "Terms of service version 2025-04" in pdf_text(order_confirmation_pdf(order=order))

    _token, key = api_token_create(user=admin_user)
    body = signed_in.get(
        f"/api/v1/tenants/{tenant.pk}/order-confirmations/{order.pk}",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    ).json()
    assert body["terms_version"] == "2025-04"
