"""Every e-mail goes through the outbox (accounts/outbox.py): written in the transaction of
what it tells about, sent by the relay after the commit, retried with backoff, written once
per dedupe key, and kept without its link token once sent."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django_scopes import scope, scopes_disabled

from accounts.mail import mail_enqueue
from accounts.models import OutboxMessage
from accounts.outbox import outbox_relay
from accounts.services import new_member_notice_send
from severa import clock
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2025, 6, 5, 9, 0, tzinfo=datetime.UTC)


class DownBackend(LocmemBackend):
    """A mail server that is down for the next `failures` messages (class-wide)."""

    failures = 0

    def send_messages(self, messages):
        if type(self).failures:
            type(self).failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def _notice(tenant, **kwargs):
    return mail_enqueue(
        to=["b@aalto.test", "a@aalto.test"],
        template="role_changed_notice",
        context={"tenant": tenant.name, "user": "anna", "role": "Admin"},
        tenant=tenant,
        **kwargs,
    )


def _messages():
    with scopes_disabled():
        return list(OutboxMessage.objects.order_by("pk"))


@pytest.mark.django_db(transaction=True)
def test_an_email_written_in_a_rolled_back_transaction_is_never_sent(tenant):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        _notice(tenant)
        raise Refused

    assert _messages() == []
    assert outbox_relay() == {}
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_an_email_written_in_a_committed_transaction_is_sent_right_after_the_commit(tenant):
    with transaction.atomic():
        [message] = _notice(tenant)
        # Not before the commit.
        assert mail.outbox == []

    assert [m.to for m in mail.outbox] == [["a@aalto.test", "b@aalto.test"]]
    assert mail.outbox[0].subject == "A user's role changed in Aalto Consulting Oy"
    [stored] = _messages()
    assert (stored.pk, stored.status, stored.attempts, stored.tenant_id, stored.kind) == (
        message.pk,
        "sent",
        1,
        tenant.pk,
        "role_changed_notice",
    )


def test_a_failing_mail_server_keeps_the_message_pending_and_the_next_relay_sends_it_once(
    tenant, settings
):
    settings.EMAIL_BACKEND = "tests.accounts.test_outbox.DownBackend"
    DownBackend.failures = 1
    with clock.frozen(T0):
        _notice(tenant)
        assert outbox_relay() == {"retry": 1}
        assert outbox_relay() == {}
    [message] = _messages()
    assert (message.status, message.attempts, message.next_attempt_at, message.last_error) == (
        "pending",
        1,
        T0 + datetime.timedelta(minutes=1),
        "SMTPServerDisconnected: Connection unexpectedly closed",
    )
    assert mail.outbox == []

    with clock.frozen(T0 + datetime.timedelta(minutes=1)):
        assert outbox_relay() == {"sent": 1}
        assert outbox_relay() == {}

    assert [m.to for m in mail.outbox] == [["a@aalto.test", "b@aalto.test"]]
    [message] = _messages()
    assert (message.status, message.attempts, message.sent_at) == (
        "sent",
        2,
        T0 + datetime.timedelta(minutes=1),
    )


def test_a_task_run_twice_writes_its_notice_once(tenant):
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
        member = MembershipFactory(tenant=tenant)
    with scope(tenant=tenant.pk):
        assert new_member_notice_send(membership=member) == [admin.email]
        assert new_member_notice_send(membership=member) == [admin.email]
    [message] = _messages()
    assert (message.to, message.kind, message.dedupe_key) == (
        admin.email,
        "new_user_notice",
        f"new_user_notice:{member.pk}",
    )
    assert outbox_relay() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_an_invitation_is_written_to_the_outbox_and_its_token_is_blanked_once_sent(
    verified_client, admin_user, tenant, django_capture_on_commit_callbacks
):
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/t/{tenant.pk}/users/", {"email": "new@aalto.test", "role": "member"})
    [message] = _messages()
    assert (message.tenant_id, message.partner_id, message.kind, message.to, message.status) == (
        tenant.pk,
        None,
        "invitation",
        "new@aalto.test",
        "pending",
    )
    assert "/accounts/invitations/" in message.body

    for callback in callbacks:
        callback()

    [sent] = mail.outbox
    assert "/accounts/invitations/[sent]/" not in sent.body
    [message] = _messages()
    assert message.status == "sent"
    assert "/accounts/invitations/[sent]/" in message.body


def test_a_password_reset_is_a_message_of_nobody_that_no_tenant_sees(
    client, member_user, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": member_user.email})

    [sent] = mail.outbox
    assert sent.to == [member_user.email]
    [message] = _messages()
    assert (message.tenant_id, message.partner_id, message.kind, message.status) == (
        None,
        None,
        "password_reset",
        "sent",
    )
    assert "/accounts/reset/" in sent.body
    assert "/accounts/reset/" in message.body and "/[sent]/" in message.body
    with scope(tenant=tenant.pk):
        assert OutboxMessage.objects.count() == 0


def test_the_operators_outbox_page_shows_every_message_and_retries_one_of_nobody(
    verified_client, operator, tenant, member_user, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.accounts.test_outbox.DownBackend"
    DownBackend.failures = 1
    with clock.frozen(T0):
        _notice(tenant)
        mail_enqueue(
            to=[member_user.email],
            template="api_token_notice",
            context={
                "user": member_user.username,
                "prefix": "abcd1234",
                "created_at": T0.isoformat(),
            },
        )
        # The server refuses the notice's first attempt; the token notice goes out.
        assert outbox_relay() == {"retry": 1, "sent": 1}
    with scopes_disabled():
        notice, token_notice = _messages()
        OutboxMessage.objects.filter(pk=token_notice.pk).update(status="failed")
    client = verified_client(operator)

    page = client.get("/operator/outbox/").content.decode()
    assert "a@aalto.test, b@aalto.test" in page and "Aalto Consulting Oy" in page
    assert member_user.email in page
    assert "A new API token was created for your account" in page
    assert "Pending (1)" in page and "Failed (1)" in page
    assert f"/operator/outbox/{token_notice.pk}/retry/" in page
    assert f"/operator/outbox/{notice.pk}/retry/" not in page

    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/operator/outbox/{token_notice.pk}/retry/")
    assert response.status_code == 302
    with scopes_disabled():
        assert OutboxMessage.objects.get(pk=token_notice.pk).status == "sent"
    assert [m.to for m in mail.outbox] == [[member_user.email], [member_user.email]]
