"""After a seller change takes effect (seed 001's last step) the company's admins are asked
to check the number of active licences and that the company details are up to date, until
one of them dismisses the prompt; the page and the API show and dismiss it."""

import datetime

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from accounts.services import api_token_create
from billing.models import SellerMigration, SellerMigrationItem, SellerMigrationItemStatus
from billing.seller_change import seller_change_review_dismiss, seller_change_review_pending
from severa import clock
from tests.factories import MembershipFactory, SellerEntityFactory, SubscriptionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
COHORT = datetime.date(2025, 5, 1)
PROMPT = "Please check that the number of active licences is right"


def _item(tenant, status=SellerMigrationItemStatus.SWITCHED) -> SellerMigrationItem:
    subscription = SubscriptionFactory(tenant=tenant)
    migration = SellerMigration.objects.create(
        from_seller=subscription.seller,
        to_seller=SellerEntityFactory(name="Severa Solutions Oy"),
        cohort_start=COHORT,
        created_at=clock.now(),
    )
    return SellerMigrationItem.objects.create(
        tenant=tenant,
        migration=migration,
        subscription=subscription,
        currency="EUR",
        status=status,
        switched_at=clock.now() if status == SellerMigrationItemStatus.SWITCHED else None,
    )


def test_the_prompt_is_pending_after_the_switch_only(tenant, other_tenant):
    item = _item(tenant, SellerMigrationItemStatus.NOTIFIED)
    assert seller_change_review_pending(tenant=tenant) is None

    item.status = SellerMigrationItemStatus.SWITCHED
    item.save()
    assert seller_change_review_pending(tenant=tenant) == item
    assert seller_change_review_pending(tenant=other_tenant) is None


def test_dismissing_records_who_and_when_once(tenant, admin_user):
    item = _item(tenant)
    at = datetime.datetime(2025, 5, 2, 8, 0, tzinfo=datetime.UTC)
    with clock.frozen(at):
        assert seller_change_review_dismiss(tenant=tenant, actor=admin_user) == 1
        assert seller_change_review_dismiss(tenant=tenant, actor=admin_user) == 0
    item.refresh_from_db()
    assert (item.review_dismissed_at, item.review_dismissed_by) == (at, admin_user)
    assert seller_change_review_pending(tenant=tenant) is None
    assert AuditEvent.objects.filter(tenant=tenant, action="seller_change.reviewed").count() == 1


def test_admins_see_the_prompt_on_the_front_page_until_they_dismiss_it(
    tenant, admin_user, client, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    _item(tenant)
    member = MembershipFactory(tenant=tenant, role="member").user
    client.force_login(member)
    assert PROMPT not in client.get(f"/t/{tenant.pk}/").content.decode()

    client.force_login(admin_user)
    page = client.get(f"/t/{tenant.pk}/").content.decode()
    assert PROMPT in page
    assert "Your subscription moved to Severa Solutions Oy on" in page
    assert f"/t/{tenant.pk}/users/" in page and f"/t/{tenant.pk}/billing/details/" in page

    response = client.post(f"/t/{tenant.pk}/seller-change/dismiss/")
    assert response.status_code == 302
    assert PROMPT not in client.get(f"/t/{tenant.pk}/").content.decode()


def test_a_member_cannot_dismiss_it(tenant, client, settings):
    settings.TWO_FACTOR_REQUIRED = False
    item = _item(tenant)
    client.force_login(MembershipFactory(tenant=tenant, role="member").user)
    assert client.post(f"/t/{tenant.pk}/seller-change/dismiss/").status_code == 403
    item.refresh_from_db()
    assert item.review_dismissed_at is None


def test_the_api_shows_and_dismisses_it(tenant, admin_user, other_tenant, settings):
    settings.TWO_FACTOR_REQUIRED = False
    _item(tenant)
    with scopes_disabled():
        _token, key = api_token_create(user=admin_user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/tenants/{tenant.pk}/seller-change"
    assert api.get(url).json() == {
        "review_pending": True,
        "to_seller": "Severa Solutions Oy",
        "switched_on": "2025-05-01",
    }
    assert api.post(url).json() == {
        "review_pending": False,
        "to_seller": None,
        "switched_on": None,
    }
    assert api.get(f"/api/v1/tenants/{other_tenant.pk}/seller-change").status_code == 404
