"""A partner agreement's termination rule (§3.2), the partner's edition changes (upgrade at
once, pro rata; downgrade as a support request, §3.8) and the operators' support page."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from accounts.models import CollaborationStatus
from partners.models import SupportRequest, SupportRequestStatus
from partners.services.support import partner_edition_change, support_request_resolve
from severa import clock
from subscriptions.models import ChangeKind, ChangeStatus, Quote, ScheduledChange
from subscriptions.pricebook import QuoteError
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import CollaborationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement(tenant):
    """A 12-month partner agreement from 2025-01-01, monthly periods."""
    with scopes_disabled():
        return SubscriptionFactory(
            tenant=tenant,
            period_months=1,
            period_start=datetime.date(2025, 5, 1),
            period_end=datetime.date(2025, 5, 31),
            agreement_end=datetime.date(2025, 12, 31),
        )


def test_a_12_month_agreement_refuses_a_termination_made_in_month_5(agreement, admin_user):
    with clock.frozen(datetime.date(2025, 5, 20)), scopes_disabled():
        with pytest.raises(QuoteError) as refused:
            quote_create(subscription=agreement, desired=Desired(terminate=True), actor=admin_user)
        assert str(refused.value) == (
            "The agreement runs until 2025-12-31: it can be terminated from 2025-12-01 on, "
            "effective 2026-01-01"
        )
        assert not Quote.objects.exists()
        assert not ScheduledChange.objects.exists()


def test_a_12_month_agreement_schedules_a_termination_made_in_month_12(tenant, admin_user):
    with scopes_disabled():
        subscription = SubscriptionFactory(
            tenant=tenant,
            period_months=1,
            period_start=datetime.date(2025, 12, 1),
            period_end=datetime.date(2025, 12, 31),
            agreement_end=datetime.date(2025, 12, 31),
        )
    with clock.frozen(datetime.date(2025, 12, 10)), scopes_disabled():
        quote = quote_create(
            subscription=subscription, desired=Desired(terminate=True), actor=admin_user
        )
        quote_confirm(quote=quote, actor=admin_user)
        change = ScheduledChange.objects.get()
    assert (change.kind, change.status, change.effective_date) == (
        ChangeKind.TERMINATION,
        ChangeStatus.SCHEDULED,
        datetime.date(2026, 1, 1),
    )


def test_a_12_month_period_agreement_refuses_month_5_and_schedules_month_12(tenant, admin_user):
    with scopes_disabled():
        subscription = SubscriptionFactory(
            tenant=tenant,
            period_months=12,
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2025, 12, 31),
            agreement_end=datetime.date(2025, 12, 31),
        )
    with scopes_disabled():
        with clock.frozen(datetime.date(2025, 5, 15)), pytest.raises(QuoteError):
            quote_create(
                subscription=subscription, desired=Desired(terminate=True), actor=admin_user
            )
        with clock.frozen(datetime.date(2025, 12, 31)):
            quote = quote_create(
                subscription=subscription, desired=Desired(terminate=True), actor=admin_user
            )
    assert quote.content["scheduled"][0]["effective_date"] == "2026-01-01"


def test_a_decrease_during_the_agreement_waits_until_it_ends(agreement, admin_user):
    with clock.frozen(datetime.date(2025, 5, 20)), scopes_disabled():
        quote = quote_create(subscription=agreement, desired=Desired(seats=3), actor=admin_user)
    assert quote.content["scheduled"][0]["effective_date"] == "2026-01-01"


def test_the_terminate_page_names_the_agreement_end(agreement, admin_user, verified_client):
    client = verified_client(admin_user)
    with clock.frozen(datetime.date(2025, 5, 20)):
        response = client.post(f"/t/{agreement.tenant_id}/upgrades/terminate/", follow=True)
    assert "The agreement runs until 2025-12-31" in response.content.decode()


def test_a_partner_upgrade_is_a_quote_charged_pro_rata_and_effective_at_once(
    tenant, partner, partner_user, verified_client
):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        CollaborationFactory(tenant=tenant, partner=partner)
    client = verified_client(partner_user)
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = client.post(
            f"/p/{partner.pk}/customers/{tenant.pk}/", {"edition": "business", "message": ""}
        )
        with scopes_disabled():
            quote = Quote.objects.get()
        assert response["Location"] == f"/t/{tenant.pk}/upgrades/agreement/{quote.pk}/"
        # (46.00 − 30.00) × 3 months × 5 seats × 57/92 days = 148.695… → 148.70 net.
        assert quote.content["immediate"]["net"] == "148.70"
        with scopes_disabled():
            quote_confirm(quote=quote, actor=partner_user)
            subscription.refresh_from_db()
    assert subscription.edition.code == "business"
    assert Decimal(quote.content["immediate"]["net"]) == Decimal("148.70")


def test_a_partner_downgrade_files_a_support_request_and_changes_nothing(
    tenant, partner, partner_user, operator, verified_client
):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        subscription.edition = subscription.edition.__class__.objects.get(code="business")
        subscription.save()
        CollaborationFactory(tenant=tenant, partner=partner)
    client = verified_client(partner_user)
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = client.post(
            f"/p/{partner.pk}/customers/{tenant.pk}/",
            {"edition": "professional", "message": "Fewer features suffice."},
            follow=True,
        )
    assert "not self-service" in response.content.decode()
    with scopes_disabled():
        request = SupportRequest.objects.get()
        subscription.refresh_from_db()
        assert not Quote.objects.exists()
    assert (request.tenant, request.partner, request.requested_edition, request.status) == (
        tenant,
        partner,
        "professional",
        SupportRequestStatus.OPEN,
    )
    assert subscription.edition.code == "business"

    operator_client = verified_client(operator)
    page = operator_client.get("/operator/support-requests/")
    assert "Fewer features suffice." in page.content.decode()
    operator_client.post(f"/operator/support-requests/{request.pk}/resolve/")
    with scopes_disabled():
        request.refresh_from_db()
    assert (request.status, request.resolved_by) == (SupportRequestStatus.RESOLVED, operator)
    with pytest.raises(ValidationError):
        support_request_resolve(support_request=request, actor=operator)
    # Only operators see the page.
    assert verified_client(partner_user).get("/operator/support-requests/").status_code == 404


def test_a_pending_collaboration_cannot_change_the_edition(
    tenant, partner, partner_user, verified_client
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
        CollaborationFactory(tenant=tenant, partner=partner, status=CollaborationStatus.PENDING)
    client = verified_client(partner_user)
    with clock.frozen(datetime.date(2025, 6, 5)):
        page = client.get(f"/p/{partner.pk}/customers/{tenant.pk}/")
        response = client.post(
            f"/p/{partner.pk}/customers/{tenant.pk}/", {"edition": "business", "message": ""}
        )
    assert page.status_code == 200
    assert "Waiting for the customer" in page.content.decode()
    assert response.status_code == 404
    with scopes_disabled():
        assert not Quote.objects.exists()


def test_an_unknown_edition_is_refused(tenant, partner, partner_user):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    with pytest.raises(ValidationError) as refused:
        partner_edition_change(
            tenant=tenant, partner=partner, edition="platinum", message="", actor=partner_user
        )
    assert "edition" in refused.value.message_dict


def test_the_upgrades_edition_page_refuses_a_partner_downgrade(
    tenant, partner, partner_user, admin_user, verified_client
):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        subscription.edition = subscription.edition.__class__.objects.get(code="business")
        subscription.save()
        CollaborationFactory(tenant=tenant, partner=partner)
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = verified_client(partner_user).post(
            f"/t/{tenant.pk}/upgrades/edition/", {"edition": "professional"}
        )
        assert "not self-service" in response.content.decode()
        with scopes_disabled():
            assert not Quote.objects.exists()
        # The customer's own administrator still schedules it (§3.3).
        admin = verified_client(admin_user).post(
            f"/t/{tenant.pk}/upgrades/edition/", {"edition": "professional"}
        )
    assert admin.status_code == 302


def test_the_quotes_api_refuses_a_partner_downgrade_like_the_page(
    tenant, partner, partner_user, admin_user
):
    from django.test import Client

    from accounts.services import api_token_create

    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        subscription.edition = subscription.edition.__class__.objects.get(code="business")
        subscription.save()
        CollaborationFactory(tenant=tenant, partner=partner)

    def api(user):
        _token, key = api_token_create(user=user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    url = f"/api/v1/tenants/{tenant.pk}/quotes"
    with clock.frozen(datetime.date(2025, 6, 5)):
        refused = api(partner_user).post(
            url, {"edition": "professional"}, content_type="application/json"
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "quote_refused"
        assert "not self-service" in refused.json()["error"]["message"]
        with scopes_disabled():
            assert not Quote.objects.exists()
        # The customer's own administrator still gets the quote (§3.3).
        allowed = api(admin_user).post(
            url, {"edition": "professional"}, content_type="application/json"
        )
    assert allowed.status_code == 201
