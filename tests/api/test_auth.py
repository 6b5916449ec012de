import datetime

import pytest
from django_scopes import scopes_disabled

from accounts.models import ApiToken
from accounts.services import api_token_create
from severa import clock
from tests.factories import (
    PASSWORD,
    CollaborationFactory,
    PartnerMembershipFactory,
    totp_code,
    totp_device,
)

pytestmark = pytest.mark.django_db


def _token(client, **body):
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_token_for_a_member_then_me(client, member_user, tenant):
    response = _token(client, username=member_user.username, password=PASSWORD)
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "Bearer"
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["username"] == member_user.username
    assert me.json()["tenants"] == [{"id": tenant.pk, "name": tenant.name, "role": "member"}]
    assert me.json()["partners"] == []
    stored = ApiToken.objects.get(user=member_user)
    assert body["token"] not in stored.key_hash


def test_an_admin_needs_the_one_time_code(client, admin_user):
    device = totp_device(admin_user)
    response = _token(client, username=admin_user.username, password=PASSWORD)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_required"
    response = _token(client, username=admin_user.username, password=PASSWORD, otp_code="123")
    assert response.json()["error"]["code"] == "otp_invalid"
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = _token(
        client, username=admin_user.username, password=PASSWORD, otp_code=totp_code(device)
    )
    assert response.status_code == 201


def test_an_admin_without_two_factor_gets_no_token(client, admin_user):
    response = _token(client, username=admin_user.username, password=PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "nobody", "password": "x"}, 401, "invalid_credentials"),
        ({"username": "nobody"}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_token_errors_share_one_format(client, body, status, code):
    response = _token(client, **body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]
    if code == "invalid":
        assert "password" in error["fields"]


def test_every_api_error_has_the_same_shape(client, member_user, other_tenant):
    _token_obj, key = api_token_create(user=member_user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    cases = [
        (client.get("/api/v1/me"), 401, "not_authenticated"),
        (client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nope"), 401, "authentication_failed"),
        (client.get(f"/api/v1/tenants/{other_tenant.pk}", **auth), 404, "not_found"),
        (client.get("/api/v1/no-such-route", **auth), 404, "not_found"),
        (client.delete("/api/v1/me", **auth), 405, "method_not_allowed"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["status"] == status


def test_expired_and_revoked_tokens_and_disabled_users_are_refused(client, member_user):
    token, key = api_token_create(user=member_user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/me", **auth).status_code == 200
    with clock.frozen(token.expires_at + datetime.timedelta(seconds=1)):
        assert client.get("/api/v1/me", **auth).status_code == 401
    member_user.is_active = False
    member_user.save()
    assert client.get("/api/v1/me", **auth).status_code == 401


def test_a_new_token_is_told_to_its_owner(client, member_user, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        _token(client, username=member_user.username, password=PASSWORD)
    assert [m.to for m in mail.outbox] == [[member_user.email]]
    assert "API token" in mail.outbox[0].subject


def test_a_partner_user_acts_for_its_customers_only(client, tenant, other_tenant):
    with scopes_disabled():
        partner_user = PartnerMembershipFactory().user
        CollaborationFactory(partner=partner_user.partner_memberships.get().partner, tenant=tenant)
    _t, key = api_token_create(user=partner_user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    me = client.get("/api/v1/me", **auth).json()
    assert me["tenants"] == [{"id": tenant.pk, "name": tenant.name, "role": "partner"}]
    assert client.get(f"/api/v1/tenants/{tenant.pk}/users", **auth).status_code == 200
    assert client.get(f"/api/v1/tenants/{other_tenant.pk}/users", **auth).status_code == 404


def test_an_operator_reaches_every_tenant(client, operator, tenant, other_tenant):
    _t, key = api_token_create(user=operator)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    for t in (tenant, other_tenant):
        assert client.get(f"/api/v1/tenants/{t.pk}", **auth).json()["name"] == t.name


def test_the_schema_and_the_docs_work_offline(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tenants/{tenant_id}/invitations" in paths
    assert "/api/v1/auth/token" in paths
    docs = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
