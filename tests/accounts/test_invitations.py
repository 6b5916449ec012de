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


def test_invitees_beyond_the_seats_join_deactivated_and_the_admins_are_told(
    verified_client, admin_user, tenant, django_capture_on_commit_callbacks
):
    """At 8 of 8 seats three invitees accept their e-mailed links: each joins deactivated,
    the seats stay in use 8 of 8, and the company's admins get a notice with a link to buy
    seats (in the company's language)."""
    from subscriptions.selectors import active_licences
    from tests.factories import SubscriptionFactory

    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=8)
        while active_licences(tenant=tenant) < 8:
            MembershipFactory(tenant=tenant, role=Role.MEMBER)
    client = verified_client(admin_user)
    emails = [f"late{number}@example.test" for number in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for email in emails:
            _invite(client, tenant, email=email)
    links = [_link(message) for message in mail.outbox]
    mail.outbox = []
    client.post("/accounts/logout/")

    for number, link in enumerate(links):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                link,
                {
                    "first_name": "Late",
                    "last_name": str(number),
                    "username": f"late{number}",
                    "password": "a long enough secret 7",
                },
                follow=True,
            )
        assert "all its licences are in use" in response.content.decode()
        client.post("/accounts/logout/")

    with scopes_disabled():
        assert active_licences(tenant=tenant) == 8
        joined = Membership.objects.filter(tenant=tenant, user__email__in=emails)
        assert sorted(joined.values_list("is_active", flat=True)) == [False, False, False]
        assert AuditEvent.objects.filter(action="licence.refused_on_join").count() == 3
    notices = [m for m in mail.outbox if m.subject.startswith("No free licence")]
    assert len(notices) == 3
    assert notices[0].subject == f"No free licence for a new user of {tenant.name}"
    assert notices[0].to == [admin_user.email]
    assert "all 8 licences are in use" in notices[0].body
    assert f"http://127.0.0.1:8000/t/{tenant.pk}/upgrades/" in notices[0].body
    assert f"http://127.0.0.1:8000/t/{tenant.pk}/users/" in notices[0].body


def test_an_invitee_takes_a_free_seat_and_the_next_one_joins_deactivated(
    admin_user, tenant, django_capture_on_commit_callbacks
):
    from accounts.services import invitation_accept, invitation_create
    from subscriptions.selectors import active_licences
    from tests.factories import SubscriptionFactory, UserFactory

    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=active_licences(tenant=tenant) + 1)
    with scope(tenant=tenant.pk), django_capture_on_commit_callbacks(execute=True):
        for email in ("first@example.test", "second@example.test"):
            invitation, _token = invitation_create(
                tenant=tenant, email=email, role=Role.MEMBER, actor=admin_user
            )
            invitation_accept(invitation=invitation, user=UserFactory(email=email))
        states = dict(
            Membership.objects.filter(
                tenant=tenant, user__email__in=["first@example.test", "second@example.test"]
            ).values_list("user__email", "is_active")
        )
    assert states == {"first@example.test": True, "second@example.test": False}
    assert len([m for m in mail.outbox if m.subject.startswith("No free licence")]) == 1


def test_a_signed_in_user_with_another_address_is_refused_with_a_message(
    verified_client, admin_user, tenant, client, member_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(verified_client(admin_user), tenant, email="someone.else@example.test")
    link = _link(mail.outbox[0])
    client.force_login(member_user)
    response = client.post(link, {"csrfmiddlewaretoken": "x"})
    assert response.status_code == 200
    assert "This invitation was sent to another e-mail address." in response.content.decode()
    with scope(tenant=tenant.pk):
        assert not Invitation.objects.filter(accepted_at__isnull=False).exists()
