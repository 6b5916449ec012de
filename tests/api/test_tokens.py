"""API tokens end with the credentials they were issued for (a password change or reset, a
two-factor reset, deactivation), and their owner lists and revokes them: the API and the
"Your account" page."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import ApiToken
from accounts.services import api_token_create, user_deactivate
from severa import clock
from tests.factories import PASSWORD, UserFactory, totp_device

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2025, 6, 5, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen(no_two_factor):
    with clock.frozen(NOW):
        yield


def bearer(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _works(key: str) -> bool:
    status = bearer(key).get("/api/v1/me").status_code
    assert status in (200, 401)
    return status == 200


def test_a_password_reset_by_email_ends_every_token(
    client, member_user, other_admin, django_capture_on_commit_callbacks
):
    _token, key = api_token_create(user=member_user)
    _second, second_key = api_token_create(user=member_user)
    _others, others_key = api_token_create(user=other_admin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox relay sends it
        client.post("/accounts/password-reset/", {"email": member_user.email})
    link = re.search(r"http://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert response.status_code == 302
    assert (_works(key), _works(second_key), _works(others_key)) == (False, False, True)
    assert ApiToken.objects.filter(user=member_user, revoked_at=NOW).count() == 2


def test_a_password_change_anywhere_ends_every_token(member_user):
    _token, key = api_token_create(user=member_user)
    member_user.set_password("changed by the admin site 7")
    member_user.save()
    assert not _works(key)


def test_saving_a_user_without_a_new_password_keeps_the_tokens(member_user):
    _token, key = api_token_create(user=member_user)
    member_user.first_name = "Renamed"
    member_user.save()
    member_user.last_login = NOW
    member_user.save(update_fields=["last_login"])
    assert _works(key)


def test_a_two_factor_reset_ends_every_token(member_user):
    device = totp_device(member_user)
    _token, key = api_token_create(user=member_user)
    device.delete()
    assert not _works(key)


def test_deactivation_ends_every_token(member_user, operator):
    _token, key = api_token_create(user=member_user)
    user_deactivate(user=member_user, actor=operator)
    member_user.is_active = True
    member_user.save()
    # Re-enabling the account does not bring the old tokens back.
    assert not _works(key)


def test_the_owner_lists_its_tokens_without_their_secret(member_user):
    first, first_key = api_token_create(user=member_user)
    with clock.frozen(NOW + datetime.timedelta(hours=1)):
        second, second_key = api_token_create(user=member_user)
        bearer(first_key).get("/api/v1/me")
        response = bearer(second_key).get("/api/v1/auth/tokens")
    foreign, _foreign_key = api_token_create(user=UserFactory())
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": second.pk,
            "prefix": second_key[:8],
            "created_at": "2025-06-05T13:30:00+03:00",
            "last_used_at": "2025-06-05T13:30:00+03:00",
            "expires_at": "2025-07-05T13:30:00+03:00",
            "is_current": True,
        },
        {
            "id": first.pk,
            "prefix": first_key[:8],
            "created_at": "2025-06-05T12:30:00+03:00",
            "last_used_at": "2025-06-05T13:30:00+03:00",
            "expires_at": "2025-07-05T12:30:00+03:00",
            "is_current": False,
        },
    ]
    assert first_key not in response.content.decode()


def test_revoking_one_token_by_id_and_another_users_is_a_404(member_user):
    first, first_key = api_token_create(user=member_user)
    _second, second_key = api_token_create(user=member_user)
    foreign, foreign_key = api_token_create(user=UserFactory())
    client = bearer(second_key)
    assert client.delete(f"/api/v1/auth/tokens/{foreign.pk}").status_code == 404
    assert _works(foreign_key)
    assert client.delete(f"/api/v1/auth/tokens/{first.pk}").status_code == 204
    assert not _works(first_key)
    assert _works(second_key)
    # Once revoked it is gone.
    assert client.delete(f"/api/v1/auth/tokens/{first.pk}").status_code == 404


def test_revoking_the_token_in_use(member_user):
    _token, key = api_token_create(user=member_user)
    _other, other_key = api_token_create(user=member_user)
    response = bearer(key).delete("/api/v1/auth/token")
    assert response.status_code == 204
    assert not _works(key)
    assert _works(other_key)
    assert bearer(key).delete("/api/v1/auth/token").status_code == 401


def test_signing_in_still_works_with_a_stale_authorization_header(member_user):
    response = bearer("stale-token").post(
        "/api/v1/auth/token",
        {"username": member_user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_your_account_lists_the_tokens_with_revoke(member_user, verified_client):
    token, key = api_token_create(user=member_user)
    foreign, foreign_key = api_token_create(user=UserFactory())
    browser = verified_client(member_user)
    page = browser.get("/accounts/me/").content.decode()
    assert f"{key[:8]}…" in page
    assert key not in page
    assert f"/accounts/me/tokens/{token.pk}/revoke/" in page
    confirm = {"confirm": "yes"}
    assert browser.post(f"/accounts/me/tokens/{foreign.pk}/revoke/", confirm).status_code == 404
    assert browser.get(f"/accounts/me/tokens/{foreign.pk}/revoke/").status_code == 404
    assert _works(foreign_key)
    # The button asks first: a bare POST shows what revoking does and revokes nothing.
    asked = browser.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    assert asked.status_code == 200
    assert f"Revoke the API token {key[:8]}…?" in asked.content.decode()
    assert "every request made with this token is refused" in asked.content.decode()
    assert _works(key)
    response = browser.post(f"/accounts/me/tokens/{token.pk}/revoke/", confirm)
    assert response.status_code == 302
    assert not _works(key)
    assert f"<code>{key[:8]}…</code>" not in browser.get("/accounts/me/").content.decode()


def test_the_token_routes_are_in_the_schema(client):
    schema = client.get("/api/v1/schema/").content.decode()
    assert "/api/v1/auth/tokens:" in schema
    assert "/api/v1/auth/tokens/{apitoken_id}:" in schema
    assert "operationId: auth_token_destroy" in schema
