"""The partner API: partner organisations, customers, activations with Idempotency-Key,
invitations both ways, ending a collaboration, and a partner user's token on the tenant
routes of its customers (and nowhere else)."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Collaboration, CollaborationStatus, PartnerMembership, Tenant
from accounts.services import api_token_create
from partners.models import PartnerActivation, PartnerInvitation
from severa import clock
from tests.factories import CollaborationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture(autouse=True)
def _frozen(no_two_factor):
    with clock.frozen(SEED_DAY):
        yield


def api_client(user) -> Client:
    _token, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_an_operator_creates_a_partner_whose_first_user_is_invited(
    operator, plain_user, django_capture_on_commit_callbacks
):
    body = {
        "name": "Tilitoimisto Uusi Oy",
        "country": "FI",
        "business_id": "1572860-0",
        "user_name": "Outi Ojala",
        "user_email": "outi@uusi.test",
        "support_email": "Tuki@uusi.test",
    }
    operator_api = api_client(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post("/api/v1/partners", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["partner"]["name"] == "Tilitoimisto Uusi Oy"
    assert data["partner"]["support_email"] == "tuki@uusi.test"
    membership = PartnerMembership.objects.get(partner_id=data["partner"]["id"])
    assert (membership.user.email, membership.user.first_name) == ("outi@uusi.test", "Outi")
    assert not membership.user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["outi@uusi.test"]
    assert "/accounts/reset/" in message.body
    # Not for anyone else.
    refused = api_client(plain_user).post("/api/v1/partners", body, content_type="application/json")
    assert refused.status_code == 403


def test_activation_of_a_new_customer_with_an_idempotency_key(
    partner, partner_user, engagement, seller, catalog, django_capture_on_commit_callbacks
):
    client = api_client(partner_user)
    body = {
        "customer": {
            "name": "Uusi Asiakas Oy",
            "country": "FI",
            "business_id": "1572860-0",
            "vat_number": "FI15728600",
            "admin_name": "Ville Virtanen",
            "admin_email": "ville@uusi.test",
        },
        "engagement": engagement.pk,
        "edition": "business",
        "seats": 4,
        "invoice_recipient": "partner",
        "agreement_months": 12,
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            f"/api/v1/partners/{partner.pk}/activations",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="act-1",
        )
        again = client.post(
            f"/api/v1/partners/{partner.pk}/activations",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="act-1",
        )
    assert first.status_code == 201, first.json()
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    data = first.json()
    assert (data["scenario"], data["status"], data["edition"], data["seats"]) == (
        "new_customer",
        "pending",
        "business",
        4,
    )
    with scopes_disabled():
        assert PartnerActivation.objects.count() == 1
        assert Tenant.objects.filter(name="Uusi Asiakas Oy").count() == 1
    assert len(mail.outbox) == 1
    customers = client.get(f"/api/v1/partners/{partner.pk}/customers").json()
    assert customers == [
        {
            "tenant_id": data["tenant_id"],
            "name": "Uusi Asiakas Oy",
            "collaboration_status": "pending",
            "engagement": "Bookkeeping 2025",
            "edition": None,
            "seats": None,
            "period_start": None,
            "period_end": None,
            "agreement_end": None,
            "invoice_recipient": None,
        }
    ]


def test_a_bad_vat_number_is_a_400_naming_the_field_and_saves_nothing(
    partner, partner_user, engagement, seller, catalog
):
    response = api_client(partner_user).post(
        f"/api/v1/partners/{partner.pk}/activations",
        {
            "customer": {
                "name": "Uusi Asiakas Oy",
                "country": "FI",
                "business_id": "1572860-0",
                "vat_number": "FI15728601",
                "admin_name": "Ville",
                "admin_email": "ville@uusi.test",
            },
            "engagement": engagement.pk,
            "edition": "business",
            "seats": 4,
            "agreement_months": 12,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "vat_number" in response.json()["error"]["fields"]
    with scopes_disabled():
        assert not Tenant.objects.filter(name="Uusi Asiakas Oy").exists()


def test_the_tenant_routes_work_for_the_partners_token_on_its_customers_only(
    tenant, other_tenant, partner, partner_user
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
        SubscriptionFactory(tenant=other_tenant)
        CollaborationFactory(tenant=tenant, partner=partner)
    client = api_client(partner_user)
    assert client.get(f"/api/v1/tenants/{tenant.pk}/subscription").status_code == 200
    assert client.get(f"/api/v1/tenants/{other_tenant.pk}/subscription").status_code == 404
    customer = client.get(f"/api/v1/partners/{partner.pk}/customers").json()[0]
    assert (customer["edition"], customer["seats"], customer["invoice_recipient"]) == (
        "professional",
        5,
        "customer",
    )

    # Ended: the very next request is a 404.
    ended = client.delete(f"/api/v1/partners/{partner.pk}/customers/{tenant.pk}")
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended"
    assert client.get(f"/api/v1/tenants/{tenant.pk}/subscription").status_code == 404
    assert client.get(f"/api/v1/partners/{partner.pk}/customers").json() == []
    assert client.delete(f"/api/v1/partners/{partner.pk}/customers/{tenant.pk}").status_code == 404


def test_a_partner_cannot_end_or_read_another_partners_customer(
    tenant, other_tenant, partner, other_partner, partner_user
):
    with scopes_disabled():
        CollaborationFactory(tenant=other_tenant, partner=other_partner)
    client = api_client(partner_user)
    assert (
        client.delete(f"/api/v1/partners/{partner.pk}/customers/{other_tenant.pk}").status_code
        == 404
    )
    assert client.get(f"/api/v1/partners/{other_partner.pk}/customers").status_code == 404
    assert (
        client.delete(
            f"/api/v1/partners/{other_partner.pk}/customers/{other_tenant.pk}"
        ).status_code
        == 404
    )
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE


def test_invitation_from_a_tenant_admin_accepted_by_the_partner_through_the_api(
    tenant, admin_user, member_user, partner, partner_user, django_capture_on_commit_callbacks
):
    member_api, admin_api = api_client(member_user), api_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        # A member of the tenant may not invite.
        refused = member_api.post(
            f"/api/v1/partners/{partner.pk}/invitations",
            {"tenant_id": tenant.pk},
            content_type="application/json",
        )
        created = admin_api.post(
            f"/api/v1/partners/{partner.pk}/invitations",
            {"tenant_id": tenant.pk},
            content_type="application/json",
        )
    assert refused.status_code == 404
    assert created.status_code == 201, created.json()
    [message] = mail.outbox
    assert message.to == ["anna@luku.test"]
    assert re.search(r"/partners/invitations/\S+/", message.body)
    invitation_id = created.json()["id"]
    client = api_client(partner_user)
    listed = client.get(f"/api/v1/partners/{partner.pk}/invitations").json()
    assert [i["id"] for i in listed] == [invitation_id]
    accepted = client.post(
        f"/api/v1/partners/{partner.pk}/invitations/{invitation_id}/accept",
        {"engagement_name": "Annual accounts", "details_confirmed": True},
        content_type="application/json",
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "active"
    assert client.get(f"/api/v1/tenants/{tenant.pk}").status_code == 200
    with scopes_disabled():
        assert PartnerInvitation.objects.get().accepted_by == partner_user


def test_the_partner_routes_are_in_the_schema(client):
    schema = client.get("/api/v1/schema/").content.decode()
    for route in (
        "/api/v1/partners:",
        "/api/v1/partners/{partner_id}/customers:",
        "/api/v1/partners/{partner_id}/customers/{tenant_id}:",
        "/api/v1/partners/{partner_id}/activations:",
        "/api/v1/partners/{partner_id}/invitations:",
        "/api/v1/partners/{partner_id}/invitations/{partnerinvitation_id}/accept:",
    ):
        assert route in schema
