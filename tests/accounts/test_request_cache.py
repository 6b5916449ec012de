"""The user, the verified device and the membership a request reads come from the cache,
and every change to them takes effect on the next request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from accounts.models import Membership
from tests.factories import MembershipFactory, SubscriptionFactory, catalog_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(verified_client):
    catalog_create()
    with scopes_disabled():
        membership = MembershipFactory(role="admin")
        SubscriptionFactory(tenant=membership.tenant)
    client = verified_client(membership.user)
    return client, membership


def _tables(client, path: str) -> tuple[int, set[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    tables = {
        table
        for query in queries.captured_queries
        for table in (
            "django_session",
            "accounts_user",
            "otp_totp_totpdevice",
            "accounts_membership",
        )
        if f'FROM "{table}"' in query["sql"]
    }
    return response.status_code, tables


def test_a_second_request_reads_session_user_device_and_membership_from_the_cache(
    admin_client,
):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    status, tables = _tables(client, path)
    assert status == 200
    # The seat count on the page still counts memberships; nothing else reads these tables.
    assert tables <= {"accounts_membership"}
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    assert not any('"accounts_membership"."role"' in q["sql"] for q in queries.captured_queries)


def test_a_removed_membership_is_refused_on_the_next_request(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    with scopes_disabled():
        Membership.objects.get(pk=membership.pk).delete()
    assert client.get(path).status_code == 404


def test_a_deactivated_membership_and_a_changed_role_take_effect_at_once(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    with scopes_disabled():
        membership.role = "member"
        membership.save()
    assert client.get(path).status_code == 403
    with scopes_disabled():
        membership.is_active = False
        membership.save()
    assert client.get(path).status_code == 404


def test_a_deactivated_user_is_signed_out_on_the_next_request(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    user = membership.user
    user.is_active = False
    user.save()
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_password_change_ends_the_other_sessions_at_once(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    user = membership.user
    user.set_password("another-Long-passphrase-42")
    user.save()
    assert client.get(path).status_code == 302


def test_a_removed_device_leaves_the_session_unverified(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    TOTPDevice.objects.filter(user=membership.user).delete()
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_a_renamed_company_shows_its_new_name_at_once(admin_client):
    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    tenant = membership.tenant
    tenant.name = "Renamed Oy"
    tenant.save()
    assert "Renamed Oy" in client.get(path).content.decode()


def test_users_deactivated_in_bulk_are_signed_out_on_the_next_request(admin_client):
    from accounts.models import User

    client, membership = admin_client
    path = f"/t/{membership.tenant_id}/upgrades/"
    assert client.get(path).status_code == 200
    User.objects.filter(pk=membership.user_id).update(is_active=False)
    assert client.get(path).status_code == 302
