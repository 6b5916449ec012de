"""Invitations from a customer to a partner (accepted by an e-mailed link with an
engagement), ending a collaboration from either side, and the portal's customer list."""

import datetime
import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from accounts.models import Collaboration, CollaborationStatus
from partners.models import Engagement, PartnerInvitation
from partners.services import partner_invitation_accept, partner_invitation_create
from severa import clock
from tests.factories import CollaborationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _path(message) -> str:
    [url] = re.findall(r"https?://\S+", message.body)
    return re.sub(r"^https?://[^/]+", "", url)


def test_a_tenant_admin_invites_a_partner_by_a_user_email_and_it_accepts_by_the_link(
    tenant, admin_user, partner, partner_user, verified_client, django_capture_on_commit_callbacks
):
    admin = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/t/{tenant.pk}/partners/", {"partner": "ANNA@luku.test"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["anna@luku.test"]
    assert "Aalto Consulting Oy invites Tilitoimisto Luku Oy" in message.subject
    link = _path(message)
    assert link.startswith("/partners/invitations/")
    with scopes_disabled():
        invitation = PartnerInvitation.objects.get()
        assert not Collaboration.objects.exists()

    mail.outbox = []
    partner_client = verified_client(partner_user)
    landing = partner_client.get(link)
    assert landing["Location"] == f"/p/{partner.pk}/invitations/{invitation.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        accepted = partner_client.post(
            landing["Location"],
            {"engagement": "", "engagement_name": "Payroll 2025", "details_confirmed": "on"},
        )
    assert accepted.status_code == 302
    with scopes_disabled():
        collaboration = Collaboration.objects.get()
        engagement = Engagement.objects.get()
    assert (collaboration.status, collaboration.engagement) == (
        CollaborationStatus.ACTIVE,
        "Payroll 2025",
    )
    assert engagement.customer == tenant
    [notice] = mail.outbox
    assert notice.to == [admin_user.email]
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 200
    # Used once.
    assert partner_client.get(link).status_code == 404


def test_an_invitation_by_partner_id_goes_to_every_partner_user(
    tenant, admin_user, partner, partner_user, verified_client, django_capture_on_commit_callbacks
):
    from tests.factories import PartnerMembershipFactory

    PartnerMembershipFactory(partner=partner, user__email="bo@luku.test")
    with django_capture_on_commit_callbacks(execute=True):
        verified_client(admin_user).post(f"/t/{tenant.pk}/partners/", {"partner": str(partner.pk)})
    [message] = mail.outbox
    assert sorted(message.to) == ["anna@luku.test", "bo@luku.test"]


def test_a_user_of_another_partner_cannot_accept(
    tenant, admin_user, partner, other_partner, verified_client
):
    from tests.factories import PartnerMembershipFactory

    PartnerMembershipFactory(partner=partner)
    outsider = PartnerMembershipFactory(partner=other_partner).user
    invitation, _token = partner_invitation_create(
        tenant=tenant, actor=admin_user, partner_id=partner.pk
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        partner_invitation_accept(invitation=invitation, user=outsider, engagement_name="X")
    # …nor reach it in the portal.
    client = verified_client(outsider)
    assert client.get(f"/p/{partner.pk}/invitations/{invitation.pk}/").status_code == 404
    assert client.get(f"/p/{other_partner.pk}/invitations/{invitation.pk}/").status_code == 404
    with scopes_disabled():
        assert not Collaboration.objects.exists()


def test_an_unknown_partner_is_a_clear_error(tenant, admin_user, verified_client):
    response = verified_client(admin_user).post(
        f"/t/{tenant.pk}/partners/", {"partner": "nobody@example.test"}
    )
    assert "No partner has this id" in response.content.decode()
    with scopes_disabled():
        assert not PartnerInvitation.objects.exists()


def test_the_tenant_admin_ends_a_collaboration_and_the_partners_next_request_is_404(
    tenant, admin_user, partner, partner_user, verified_client
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
        collaboration = CollaborationFactory(tenant=tenant, partner=partner)
    partner_client = verified_client(partner_user)
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 200
    assert partner_client.get(f"/p/{partner.pk}/customers/{tenant.pk}/").status_code == 200
    admin = verified_client(admin_user)
    end_url = f"/t/{tenant.pk}/partners/{collaboration.pk}/end/"
    # One click only asks: what ending does and from when; the collaboration stands.
    with clock.frozen(datetime.date(2026, 3, 2)):
        asked = admin.post(end_url)
    page = asked.content.decode()
    assert f"End the collaboration with {partner.name}?" in page
    assert f"From today, 2 Mar 2026, {partner.name} has no access to this company." in page
    with scopes_disabled():
        collaboration.refresh_from_db()
    assert collaboration.status != CollaborationStatus.ENDED
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 200
    admin.post(end_url, {"confirm": "yes"})
    with scopes_disabled():
        collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.ENDED
    assert collaboration.ended_at is not None
    partner_client = verified_client(partner_user)
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 404
    assert partner_client.get(f"/p/{partner.pk}/customers/{tenant.pk}/").status_code == 404


def test_the_partner_ends_a_collaboration_from_the_portal(
    tenant, partner, partner_user, verified_client
):
    with scopes_disabled():
        collaboration = CollaborationFactory(tenant=tenant, partner=partner)
    client = verified_client(partner_user)
    assert client.get(f"/t/{tenant.pk}/").status_code == 200
    end_url = f"/p/{partner.pk}/customers/{tenant.pk}/end/"
    asked = client.get(end_url)
    assert f"End the collaboration with {tenant.name}?" in asked.content.decode()
    assert "your organisation has no access to" in asked.content.decode()
    client.post(end_url)
    with scopes_disabled():
        collaboration.refresh_from_db()
    assert collaboration.status != CollaborationStatus.ENDED
    client.post(end_url, {"confirm": "yes"})
    with scopes_disabled():
        collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.ENDED
    assert client.get(f"/t/{tenant.pk}/").status_code == 404


def test_the_portal_lists_only_the_partners_customers_and_marks_pending_ones(
    tenant, other_tenant, partner, other_partner, partner_user, verified_client
):
    from tests.factories import TenantFactory

    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=7, invoice_partner=partner)
        waiting = TenantFactory(name="Odottava Oy")
        CollaborationFactory(tenant=tenant, partner=partner, engagement="Bookkeeping")
        CollaborationFactory(tenant=waiting, partner=partner, status=CollaborationStatus.PENDING)
        CollaborationFactory(tenant=other_tenant, partner=other_partner)
        ended = TenantFactory(name="Entinen Oy")
        CollaborationFactory(tenant=ended, partner=partner, status=CollaborationStatus.ENDED)
    page = verified_client(partner_user).get(f"/p/{partner.pk}/").content.decode()
    assert "Aalto Consulting Oy" in page
    assert "Odottava Oy" in page
    assert "Waiting for approval" in page
    assert "Charlie Competitor Oy" not in page
    assert "Entinen Oy" not in page
    row = page[page.index("Aalto Consulting Oy") :]
    assert "Professional" in row[:600]
    assert "Tilitoimisto Luku Oy" in row[:900]  # the partner is the invoice recipient


def test_the_portal_front_page_queries_do_not_grow_with_the_customers(
    partner, partner_user, verified_client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import TenantFactory

    client = verified_client(partner_user)

    def add_customers(count: int) -> None:
        with scopes_disabled():
            for _ in range(count):
                tenant = TenantFactory()
                SubscriptionFactory(tenant=tenant, invoice_partner=partner)
                CollaborationFactory(tenant=tenant, partner=partner)
                Engagement.objects.create(
                    partner=partner, name="E", customer=tenant, created_at=clock.now()
                )

    add_customers(2)
    client.get(f"/p/{partner.pk}/")  # the navigation is cached from the first page on
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/p/{partner.pk}/").status_code == 200
    add_customers(5)
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/p/{partner.pk}/")
    assert page.content.decode().count("/customers/") == 7
    assert len(many) == len(few)
