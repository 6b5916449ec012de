"""What a partner may learn before a customer approves: a company is named by its business id
and name (never an internal id), a mismatch answers like an unknown company, a waiting
customer shows only what the partner typed, requests are rate-limited per partner, and the
customer's administrator can decline."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Collaboration, CollaborationStatus
from accounts.services import api_token_create
from billing.models import TermsVersion
from partners import services as partners
from partners.models import ActivationStatus, PartnerActivation
from partners.services import activation as activation_service
from severa import clock
from subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture(autouse=True)
def _frozen(no_two_factor):
    with clock.frozen(SEED_DAY):
        yield


def api_client(user) -> Client:
    _token, key = api_token_create(user=user)
    mail.outbox.clear()
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _activate(client: Client, partner, engagement, company: dict):
    return client.post(
        f"/api/v1/partners/{partner.pk}/activations",
        {"company": company, "engagement": engagement.pk},
        content_type="application/json",
    )


def test_an_internal_tenant_id_names_no_company(
    tenant, admin_user, partner, partner_user, engagement, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)
    client = api_client(partner_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/partners/{partner.pk}/activations",
            {"tenant_id": tenant.pk, "engagement": engagement.pk},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert client.get(f"/api/v1/partners/{partner.pk}/customers/{tenant.pk}").status_code == 404
    with scopes_disabled():
        assert not PartnerActivation.objects.exists()
        assert not Collaboration.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "company",
    [
        # The business id of another company, the right name.
        {"country": "FI", "business_id": "2464491-9", "name": "Aalto Consulting Oy"},
        # The right business id, another name.
        {"country": "FI", "business_id": "1572860-0", "name": "Aalto Oy"},
        # Nobody's at all.
        {"country": "FI", "business_id": "0112038-9", "name": "Ei Ole Oy"},
    ],
)
def test_a_mismatch_answers_exactly_like_an_unknown_company(
    tenant, admin_user, partner, partner_user, engagement, company
):
    client = api_client(partner_user)
    response = _activate(client, partner, engagement, company)
    unknown = _activate(
        client,
        partner,
        engagement,
        {"country": "FI", "business_id": "0112038-9", "name": "Ei Ole Oy"},
    )
    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json()
    with scopes_disabled():
        assert not PartnerActivation.objects.exists()
    assert mail.outbox == []


def test_a_waiting_customer_shows_only_what_the_partner_typed(
    tenant,
    admin_user,
    partner,
    partner_user,
    engagement,
    verified_client,
    django_capture_on_commit_callbacks,
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)
    client = api_client(partner_user)
    with django_capture_on_commit_callbacks(execute=True):
        # Any usual spelling of the business id and of the name finds it.
        response = _activate(
            client,
            partner,
            engagement,
            {"country": "fi", "business_id": "FI 15728600", "name": "  aalto  CONSULTING oy"},
        )
    assert response.status_code == 201, response.json()
    # Whether the company has a subscription is not the partner's to know yet.
    assert response.json()["scenario"] is None
    [message] = mail.outbox
    assert message.to == [admin_user.email]
    detail = client.get(f"/api/v1/partners/{partner.pk}/customers/{tenant.pk}").json()
    assert detail == {
        "tenant_id": tenant.pk,
        "name": "Aalto Consulting Oy",
        "collaboration_status": "pending",
        "engagement": "Bookkeeping 2025",
        "edition": None,
        "seats": None,
        "period_start": None,
        "period_end": None,
        "agreement_end": None,
        "invoice_recipient": None,
    }
    portal = verified_client(partner_user)
    page = portal.get(f"/p/{partner.pk}/customers/{tenant.pk}/").content.decode()
    assert "Professional" not in page
    home = portal.get(f"/p/{partner.pk}/").content.decode()
    assert "Professional" not in home


def test_activation_requests_are_limited_per_partner(
    tenant, admin_user, partner, partner_user, engagement, monkeypatch
):
    monkeypatch.setattr(activation_service, "ACTIVATION_REQUESTS_PER_HOUR", 3)
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)
    client = api_client(partner_user)
    wrong = {"country": "FI", "business_id": "0112038-9", "name": "Ei Ole Oy"}
    statuses = [_activate(client, partner, engagement, wrong).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    # The fourth this hour is refused even when it would match.
    right = {"country": "FI", "business_id": "1572860-0", "name": "Aalto Consulting Oy"}
    refused = _activate(client, partner, engagement, right)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert "at most 3 an hour" in refused.json()["error"]["message"]
    # 2025-06-05 00:00 frozen: the window ends at 01:00.
    assert refused["Retry-After"] == "3600"
    with scopes_disabled():
        assert not PartnerActivation.objects.exists()
    assert mail.outbox == []
    # The next hour counts afresh.
    with clock.frozen(datetime.datetime(2025, 6, 5, 1, 0, tzinfo=datetime.UTC)):
        assert _activate(client, partner, engagement, right).status_code == 201


def test_the_portal_form_shows_the_limit_as_a_form_error(
    tenant, partner, partner_user, engagement, verified_client, monkeypatch
):
    monkeypatch.setattr(activation_service, "ACTIVATION_REQUESTS_PER_HOUR", 0)
    response = verified_client(partner_user).post(
        f"/p/{partner.pk}/activations/new/",
        {
            "engagement": engagement.pk,
            "company_country": "FI",
            "company_business_id": "1572860-0",
            "company_name": "Aalto Consulting Oy",
            "invoice_recipient": "customer",
            "agreement_months": "12",
        },
    )
    assert response.status_code == 200
    assert "Too many activation requests" in str(response.context["form"].non_field_errors())
    with scopes_disabled():
        assert not PartnerActivation.objects.exists()


def test_the_portal_form_gives_the_same_answer_for_a_mismatch_and_an_unknown_company(
    tenant, partner, partner_user, engagement, verified_client
):
    portal = verified_client(partner_user)

    def errors(business_id: str, name: str):
        response = portal.post(
            f"/p/{partner.pk}/activations/new/",
            {
                "engagement": engagement.pk,
                "company_country": "FI",
                "company_business_id": business_id,
                "company_name": name,
                "invoice_recipient": "customer",
                "agreement_months": "12",
            },
        )
        assert response.status_code == 200
        return response.context["form"].errors

    assert errors("1572860-0", "Another Oy") == errors("0112038-9", "Another Oy")
    with scopes_disabled():
        assert not PartnerActivation.objects.exists()


def test_the_customer_declines_and_the_partner_is_told(
    tenant,
    admin_user,
    partner,
    partner_user,
    engagement,
    seller,
    verified_client,
    django_capture_on_commit_callbacks,
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seller=seller, seats=8)
        TermsVersion.objects.create(
            seller=seller,
            version=seller.terms_version,
            title="Terms of service",
            text="Be nice.",
            published_on=datetime.date(2025, 1, 1),
        )
    activation, token = partners.activation_create(
        partner=partner,
        engagement=engagement,
        actor=partner_user,
        company=partners.ExistingCustomer(
            country="FI", business_id="1572860-0", name="Aalto Consulting Oy"
        ),
    )
    admin = verified_client(admin_user)
    page = admin.get(f"/partners/activations/{token}/").content.decode()
    assert 'name="decline"' in page
    assert f'href="/partners/terms/{seller.pk}/"' in page
    terms_page = Client().get(f"/partners/terms/{seller.pk}/")
    assert terms_page.status_code == 200
    assert "Be nice." in terms_page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/partners/activations/{token}/", {"decline": "1"})
    assert response.status_code == 302
    with scopes_disabled():
        activation.refresh_from_db()
        assert activation.status == ActivationStatus.DECLINED
        assert Collaboration.objects.get().status == CollaborationStatus.ENDED
        assert AuditEvent.objects.filter(action="partner.activation_declined").count() == 1
    [message] = mail.outbox
    assert message.to == [partner_user.email]
    assert "declined" in message.subject
    # The link is spent; the partner never gained access.
    assert admin.get(f"/partners/activations/{token}/").status_code == 404
    assert verified_client(partner_user).get(f"/t/{tenant.pk}/upgrades/").status_code == 404


def test_a_member_cannot_decline(
    tenant, member_user, admin_user, partner, partner_user, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)
    activation, _token = partners.activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    with pytest.raises(ValidationError, match="Only an administrator"):
        partners.activation_decline(activation=activation, actor=member_user)
    with scopes_disabled():
        activation.refresh_from_db()
        assert activation.status == ActivationStatus.PENDING


@pytest.mark.parametrize(
    ("selection", "status"),
    [
        ({}, 201),
        (
            {"edition": "business", "seats": 3, "invoice_recipient": "partner"}
            | {"agreement_months": 12},
            201,
        ),
        ({"edition": "business", "seats": 3, "agreement_months": 6}, 400),
        ({"edition": "platinum", "seats": 3, "agreement_months": 12}, 400),
    ],
)
def test_the_answer_does_not_tell_whether_the_company_has_a_subscription(
    tenant,
    other_tenant,
    admin_user,
    other_admin,
    partner,
    partner_user,
    engagement,
    seller,
    catalog,
    selection,
    status,
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)  # other_tenant has none
        second = partner.engagements.create(name="Payroll", created_at=clock.now())
    client = api_client(partner_user)
    answers = []
    for company, chosen in ((tenant, engagement), (other_tenant, second)):
        response = client.post(
            f"/api/v1/partners/{partner.pk}/activations",
            {
                "company": {"country": "FI", "business_id": "1572860-0", "name": company.name},
                "engagement": chosen.pk,
                **selection,
            },
            content_type="application/json",
        )
        body = response.json()
        for volatile in ("id", "tenant_id", "engagement", "expires_at", "created_at"):
            body.pop(volatile, None)
        answers.append((response.status_code, body))
    assert answers[0] == answers[1]
    assert answers[0][0] == status


def test_approving_without_a_selection_starts_only_the_collaboration(
    tenant, admin_user, partner, partner_user, engagement, seller, catalog
):
    activation, _token = partners.activation_create(
        partner=partner,
        engagement=engagement,
        actor=partner_user,
        company=partners.ExistingCustomer(
            country="FI", business_id="1572860-0", name="Aalto Consulting Oy"
        ),
    )
    assert (activation.scenario, activation.sells_subscription) == ("existing_customer", False)
    partners.activation_approve(activation=activation, actor=admin_user, terms_accepted=True)
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE
        assert not Subscription.objects.exists()
