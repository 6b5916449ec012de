import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import Membership
from tests.factories import PASSWORD, MembershipFactory, totp_code, totp_device

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_a_member_signs_in_and_out_and_sees_the_previous_sign_in(client, member_user):
    response = _login(client, member_user.username)
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert "This is your first sign-in." in page.content.decode()
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302

    member_user.refresh_from_db()
    first_login = member_user.last_login
    _login(client, member_user.username)
    member_user.refresh_from_db()
    assert member_user.previous_login_at == first_login
    assert "This is your first sign-in." not in client.get("/").content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, member_user):
    response = _login(client, member_user.username, password="wrong")
    assert response.status_code == 200
    assert "The username or password is wrong." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, member_user):
    _login(client, member_user.username)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_the_next_parameter_is_followed_only_on_this_site(client, member_user, tenant):
    response = client.post(
        LOGIN,
        {"username": member_user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"
    client.post("/accounts/logout/")
    response = client.post(
        LOGIN,
        {"username": member_user.username, "password": PASSWORD, "next": f"/t/{tenant.pk}/"},
    )
    assert response["Location"] == f"/t/{tenant.pk}/"


def test_lock_out_after_five_failures_by_username_and_ip_only(client, member_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, member_user.username, password="wrong", ip="10.0.0.9")
    # Locked from that address, even with the right password.
    response = _login(client, member_user.username, ip="10.0.0.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same account from another address is not locked: nobody can lock a victim out.
    response = _login(client, member_user.username, ip="10.0.0.10")
    assert response.status_code == 302


def test_the_api_token_endpoint_counts_failures_too(client, member_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/api/v1/auth/token",
            {"username": member_user.username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.7",
        )
    response = client.post(
        "/api/v1/auth/token",
        {"username": member_user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.7",
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_an_admin_with_a_device_needs_the_one_time_code(client, admin_user):
    device = totp_device(admin_user)
    response = _login(client, admin_user.username)
    assert response["Location"] == reverse("accounts:login_otp")
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("accounts:login_otp"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    assert "not valid" in response.content.decode()

    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("accounts:login_otp"), {"code": totp_code(device)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin_user.pk
    assert client.get("/").status_code == 200


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(client):
    response = client.get(reverse("accounts:login_otp"))
    assert response["Location"] == LOGIN


def test_an_admin_without_a_device_must_enrol_before_anything_else(client, admin_user, tenant):
    _login(client, admin_user.username)
    for path in ("/", f"/t/{tenant.pk}/users/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:two_factor_setup")
    page = client.get(reverse("accounts:two_factor_setup"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    response = client.post(reverse("accounts:two_factor_setup"), {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(f"/t/{tenant.pk}/users/").status_code == 200


def test_a_member_needs_no_second_factor(client, member_user, tenant):
    _login(client, member_user.username)
    assert client.get(f"/t/{tenant.pk}/").status_code == 200


def test_operators_must_use_two_factor_and_reach_the_admin(client, operator, verified_client):
    _login(client, operator.username)
    assert client.get("/admin/")["Location"] == reverse("accounts:two_factor_setup")
    verified = verified_client(operator)
    assert verified.get("/admin/").status_code == 200
    assert verified.get("/operator/").status_code == 200


def test_the_admin_sends_everyone_else_to_the_sign_in_form(client, member_user):
    _login(client, member_user.username)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert (
        response["Location"].startswith("/accounts/login/")
        or "/admin/login" in response["Location"]
    )
    assert client.get("/operator/").status_code == 404


def test_password_reset_by_email(client, member_user, django_capture_on_commit_callbacks):
    # The e-mail goes through the outbox: its relay runs once the request's work commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": member_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert response.status_code == 302
    assert _login(client, member_user.username, password="a brand new secret 42").status_code == 302


def test_password_reset_for_an_unknown_address_tells_nothing(client):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_deactivated_users_session_ends_at_once(client, member_user, tenant, operator):
    from accounts.services import user_deactivate

    _login(client, member_user.username)
    assert client.get(f"/t/{tenant.pk}/").status_code == 200
    user_deactivate(user=member_user, actor=operator)
    assert client.get(f"/t/{tenant.pk}/").status_code == 302


def test_removing_a_membership_removes_access_on_the_next_request(client, member_user, tenant):
    _login(client, member_user.username)
    assert client.get(f"/t/{tenant.pk}/").status_code == 200
    with scopes_disabled():
        Membership.objects.filter(user=member_user).update(is_active=False)
    assert client.get(f"/t/{tenant.pk}/").status_code == 404


def test_a_user_in_two_tenants_sees_both_on_the_dashboard(client, member_user, other_tenant):
    with scopes_disabled():
        MembershipFactory(tenant=other_tenant, user=member_user)
    _login(client, member_user.username)
    page = client.get("/").content.decode()
    assert "Aalto Consulting Oy" in page
    assert "Charlie Competitor Oy" in page
