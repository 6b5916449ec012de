"""The navigation bar's partner links: cached per user, forgotten when a partner or a
membership changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from tests.factories import PartnerFactory, PartnerMembershipFactory


@pytest.fixture
def partner_admin(admin_user):
    with scopes_disabled():
        membership = PartnerMembershipFactory(user=admin_user, partner__name="Kirjanpito Oy")
    return admin_user, membership


@pytest.mark.django_db
def test_the_navigation_is_read_once_per_user(partner_admin, tenant, verified_client):
    user, _membership = partner_admin
    client = verified_client(user)
    first = client.get(f"/t/{tenant.pk}/")
    assert "Partner: Kirjanpito Oy" in first.content.decode()
    with CaptureQueriesContext(connection) as again:
        second = client.get(f"/t/{tenant.pk}/")
    assert "Partner: Kirjanpito Oy" in second.content.decode()
    assert not [q for q in again.captured_queries if "accounts_partner" in q["sql"]]


@pytest.mark.django_db
def test_a_renamed_partner_shows_at_once(partner_admin, tenant, verified_client):
    user, membership = partner_admin
    client = verified_client(user)
    client.get(f"/t/{tenant.pk}/")
    partner = membership.partner
    partner.name = "Tilitoimisto Oy"
    partner.save()
    page = client.get(f"/t/{tenant.pk}/").content.decode()
    assert "Partner: Tilitoimisto Oy" in page
    assert "Kirjanpito Oy" not in page


@pytest.mark.django_db
def test_a_membership_added_or_ended_shows_at_once(partner_admin, tenant, verified_client):
    user, membership = partner_admin
    client = verified_client(user)
    client.get(f"/t/{tenant.pk}/")
    with scopes_disabled():
        PartnerMembershipFactory(user=user, partner=PartnerFactory(name="Laskenta Ab"))
    assert "Partner: Laskenta Ab" in client.get(f"/t/{tenant.pk}/").content.decode()
    membership.is_active = False
    membership.save()
    page = client.get(f"/t/{tenant.pk}/").content.decode()
    assert "Kirjanpito Oy" not in page
    assert "Partner: Laskenta Ab" in page
    membership.partner.delete()
    assert "Kirjanpito Oy" not in client.get(f"/t/{tenant.pk}/").content.decode()
