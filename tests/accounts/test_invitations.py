import datetime
import re

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent, Invitation, Membership, Role, User
from severa import clock
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _invite(client, tenant, email="new.person@example.test", role="member"):
    return client.post(f"/t/{tenant.pk}/users/", {"email": email, "role": role})


def _link(message) -> str:
    return re.search(r"http://[^/]+(/accounts/invitations/\S+/)", message.body).group(1)


def test_an_admin_invites_and_the_invitee_joins_and_admins_are_told(
    verified_client, admin_user, tenant, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        second_admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, tenant)
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new.person@example.test"]]
    link = _link(mail.outbox[0])
    mail.outbox = []

    client.post("/accounts/logout/")
    page = client.get(link)
    assert page.status_code == 200
    assert "new.person@example.test" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            link,
            {
                "first_name": "New",
                "last_name": "Person",
                "username": "new.person",
                "password": "a long enough secret 7",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="new.person")
    assert user.email == "new.person@example.test"
    with scope(tenant=tenant.pk):
        assert Membership.objects.get(user=user).role == Role.MEMBER
        assert AuditEvent.objects.filter(action="user.added").count() == 1
    notices = [m for m in mail.outbox if "new user" in m.subject.lower()]
    assert len(notices) == 1
    assert sorted(notices[0].to) == sorted([admin_user.email, second_admin.email])
    assert "new.person@example.test" in notices[0].body
    # The link works once.
    client.post("/accounts/logout/")
    assert client.get(link).status_code == 404


def test_an_expired_or_withdrawn_invitation_is_a_404(
    verified_client, admin_user, tenant, django_capture_on_commit_callbacks
):
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, tenant, email="late@example.test")
        _invite(client, tenant, email="withdrawn@example.test")
    late, withdrawn = (_link(m) for m in mail.outbox)
    with scopes_disabled():
        invitation = Invitation.objects.get(email="withdrawn@example.test")
    client.post(f"/t/{tenant.pk}/invitations/{invitation.pk}/revoke/")
    client.post("/accounts/logout/")
    assert client.get(withdrawn).status_code == 404
    with clock.frozen(clock.now() + datetime.timedelta(days=8)):
        assert client.get(late).status_code == 404
    assert client.get("/accounts/invitations/not-a-real-token/").status_code == 404


def test_the_token_is_stored_hashed(
    verified_client, admin_user, tenant, django_capture_on_commit_callbacks
):
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, tenant)
    token = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[-1]
    with scopes_disabled():
        invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert len(token) >= 43  # 256 random bits, URL-safe base64


def test_a_bad_invitation_is_refused_and_changes_nothing(
    verified_client, admin_user, tenant, member_user
):
    client = verified_client(admin_user)
    response = _invite(client, tenant, email="not-an-address")
    assert response.status_code == 200
    response = _invite(client, tenant, email=member_user.email)
    assert "already belongs" in response.content.decode()
    with scopes_disabled():
        assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_a_member_may_not_invite(client, member_user, tenant):
    client.force_login(member_user)
    assert _invite(client, tenant).status_code == 403


def test_role_change_is_told_to_admins_and_the_last_admin_stays(
    verified_client, admin_user, member_user, tenant, django_capture_on_commit_callbacks
):
    client = verified_client(admin_user)
    with scopes_disabled():
        member = Membership.objects.get(user=member_user)
        admin_membership = Membership.objects.get(user=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/t/{tenant.pk}/users/{member.pk}/role/", {"role": "billing"})
    member.refresh_from_db()
    assert member.role == "billing"
    assert [m.to for m in mail.outbox] == [[admin_user.email]]
    response = client.post(
        f"/t/{tenant.pk}/users/{admin_membership.pk}/role/", {"role": "member"}, follow=True
    )
    assert "at least one active administrator" in response.content.decode()
    admin_membership.refresh_from_db()
    assert admin_membership.role == "admin"
