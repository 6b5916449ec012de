"""A partner accepting a customer's invitation (seed 003): it sees the customer's current
edition, checks its business id and the invited e-mail address shown, and accepts the
partner terms, recorded with who and when; without those nothing is accepted."""

import datetime

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Collaboration
from accounts.services import api_token_create
from partners.models import PartnerTermsAcceptance, PartnerTermsVersion
from partners.services import partner_invitation_create
from severa import clock
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2025, 6, 5, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invitation(tenant, admin_user, partner, partner_user):
    partner.business_id = "0112038-9"
    partner.save()
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
        invitation, _token = partner_invitation_create(
            tenant=tenant, actor=admin_user, partner_id=partner.pk
        )
    return invitation


@pytest.fixture
def terms():
    return PartnerTermsVersion.objects.create(
        version="P-2025-01",
        title="Partner terms",
        url="https://example.test/partner-terms",
        published_on=datetime.date(2025, 1, 1),
    )


def _page(partner, invitation) -> str:
    return f"/p/{partner.pk}/invitations/{invitation.pk}/"


def test_the_page_shows_the_customers_edition_and_the_details_to_check(
    invitation, partner, partner_user, verified_client, terms
):
    client = verified_client(partner_user)
    with clock.frozen(AT):
        page = client.get(_page(partner, invitation)).content.decode()
    assert "uses the Professional edition" in page
    assert "0112038-9" in page and invitation.email in page
    assert "Partner terms, version P-2025-01" in page
    assert 'href="https://example.test/partner-terms"' in page


def test_without_confirming_the_details_and_the_terms_nothing_is_accepted(
    invitation, partner, partner_user, verified_client, terms
):
    client = verified_client(partner_user)
    with clock.frozen(AT):
        refused = client.post(
            _page(partner, invitation),
            {"engagement_name": "Payroll", "terms_version": "P-2025-01"},
        )
    assert refused.status_code == 200
    with scopes_disabled():
        assert not Collaboration.objects.exists()
    assert not PartnerTermsAcceptance.objects.exists()


def test_accepting_records_the_partner_terms_with_who_and_when(
    invitation, partner, partner_user, verified_client, terms
):
    client = verified_client(partner_user)
    with clock.frozen(AT):
        accepted = client.post(
            _page(partner, invitation),
            {
                "engagement_name": "Payroll",
                "details_confirmed": "on",
                "accept_terms": "on",
                "terms_version": "P-2025-01",
            },
        )
    assert accepted.status_code == 302
    [acceptance] = PartnerTermsAcceptance.objects.all()
    assert (acceptance.partner, acceptance.version, acceptance.accepted_by) == (
        partner,
        "P-2025-01",
        partner_user,
    )
    assert acceptance.accepted_at == AT
    assert acceptance.invitation_id == invitation.pk


def test_the_api_needs_the_confirmation_and_the_current_terms_version(
    invitation, partner, partner_user, terms, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    _token, key = api_token_create(user=partner_user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    base = f"/api/v1/partners/{partner.pk}/invitations"
    with clock.frozen(AT):
        [listed] = api.get(base).json()
        assert (listed["customer_edition"], listed["partner_terms_version"]) == (
            "Professional",
            "P-2025-01",
        )
        stale = api.post(
            f"{base}/{invitation.pk}/accept",
            {"engagement_name": "Payroll", "details_confirmed": True, "terms_version": "old"},
            content_type="application/json",
        )
        assert stale.status_code == 400
        assert "P-2025-01" in str(stale.json())
        accepted = api.post(
            f"{base}/{invitation.pk}/accept",
            {"engagement_name": "Payroll", "details_confirmed": True, "terms_version": "P-2025-01"},
            content_type="application/json",
        )
    assert accepted.status_code == 200, accepted.json()
    assert PartnerTermsAcceptance.objects.get().version == "P-2025-01"
