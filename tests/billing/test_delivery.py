"""Delivering an issued invoice (DESIGN §3.6, §3.7; RELIABILITY.md "Celery"): the PDF
rendered once after the issuing commit, one link and one outbox message per billing contact
whatever the workers do twice, and an outbox relay that retries with backoff, ends failed,
and sends a message once."""

import datetime
import re
import smtplib
import threading
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django_scopes import scopes_disabled

from accounts.models import OutboxMessage
from accounts.outbox import MAX_ATTEMPTS, RETRY_DELAYS, outbox_relay
from accounts.secrets import token_hash
from accounts.tasks import outbox_relay_task
from billing import delivery, documents
from billing.contacts import billing_contact_remove
from billing.delivery import invoice_deliveries_resume, invoice_delivery_queue, invoice_sent_mark
from billing.delivery_tasks import invoice_deliver_task, invoice_deliveries_resume_task
from billing.invoice_status import invoice_status_move
from billing.issuing import invoices_issue
from billing.models import BillingRun, Invoice, InvoiceLink, InvoiceState
from severa import clock
from tests.factories import (
    BillingContactFactory,
    MembershipFactory,
    SellerEntityFactory,
    catalog_create,
    invoice_issue_through_services,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
CONTACTS = ["ap@aalto.test", "Accountant@Numero.test"]
T0 = datetime.datetime(2024, 8, 19, 6, 0, tzinfo=datetime.UTC)
LINK = re.compile(r"http://[^\s]+/links/invoices/([A-Za-z0-9_-]+)/")


class FailingBackend(LocmemBackend):
    """A mail server that is down for the next `failures` messages (class-wide)."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).failures:
            type(self).failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"No such user")})


class SlowBackend(LocmemBackend):
    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


@pytest.fixture
def failing_mail(settings):
    settings.EMAIL_BACKEND = "tests.billing.test_delivery.FailingBackend"
    FailingBackend.failures = 0
    FailingBackend.calls = 0
    return FailingBackend


@pytest.fixture
def contacts(tenant):
    return [
        BillingContactFactory(tenant=tenant, email=address.lower(), name=f"Contact {n}")
        for n, address in enumerate(CONTACTS)
    ]


@pytest.fixture
def invoice(tenant):
    with clock.frozen(T0):
        return invoice_issue_through_services(tenant, invoice_date=T0.date())


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = documents.invoice_pdf

    def counting(*, invoice):
        calls.append(invoice.pk)
        return real(invoice=invoice)

    monkeypatch.setattr(documents, "invoice_pdf", counting)
    return calls


def stored(invoice) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(pk=invoice.pk)


def run_task(invoice) -> int:
    return invoice_deliver_task.apply(
        kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
    ).get()


def messages_of(invoice) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(invoice_message__invoice_id=invoice.pk).order_by("to"))


def test_the_task_renders_once_and_writes_one_link_and_message_per_contact(
    invoice, contacts, renders
):
    with clock.frozen(T0):
        assert run_task(invoice) == 2
        assert run_task(invoice) == 0
        assert run_task(invoice) == 0

    assert renders == [invoice.pk]
    assert stored(invoice).pdf_rendered_at == T0
    links = list(InvoiceLink.objects.filter(invoice_id=invoice.pk).order_by("email"))
    assert [(link.email, link.contact) for link in links] == [
        ("accountant@numero.test", contacts[1]),
        ("ap@aalto.test", contacts[0]),
    ]
    assert all(link.expires_at == T0 + datetime.timedelta(days=180) for link in links)
    messages = messages_of(invoice)
    assert [(m.to, m.status, m.attempts, m.kind) for m in messages] == [
        ("accountant@numero.test", "pending", 0, "invoice_link"),
        ("ap@aalto.test", "pending", 0, "invoice_link"),
    ]
    assert [m.dedupe_key for m in messages] == [
        f"invoice:{invoice.pk}:link:accountant@numero.test",
        f"invoice:{invoice.pk}:link:ap@aalto.test",
    ]
    assert [m.invoice_message.link for m in messages] == links
    # Nothing is e-mailed by the task itself: the relay sends.
    assert mail.outbox == []
    assert stored(invoice).status == "issued"


def test_the_relay_sends_each_message_once_and_the_invoice_becomes_sent(invoice, contacts):
    with clock.frozen(T0):
        run_task(invoice)
        assert outbox_relay() == {"sent": 2}
        assert outbox_relay() == {}
        run_task(invoice)
        assert outbox_relay() == {}

    assert sorted(m.to[0] for m in mail.outbox) == ["accountant@numero.test", "ap@aalto.test"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == (
        f"Invoice {invoice.display_number} · {invoice.seller_snapshot['name']} · "
        "Aalto Consulting Oy"
    )
    assert "€74.40" in message.body  # 2 × 30.00 + 24 % VAT 14.40
    assert "Due date: 2 Sept 2024" in message.body
    assert "works until 15 Feb 2025" in message.body
    assert "because you are a billing contact" in message.body
    # Each recipient has a token of its own, and only its hash is stored.
    tokens = {m.to[0]: LINK.search(m.body).group(1) for m in mail.outbox}
    assert len(set(tokens.values())) == 2
    for address, token in tokens.items():
        assert len(token) >= 43  # 256 bits, URL-safe base 64
        link = InvoiceLink.objects.get(email=address)
        assert link.token_hash == token_hash(token) != token
    # Once sent, the stored copy of the message keeps no usable token.
    for stored_message in messages_of(invoice):
        assert (stored_message.status, stored_message.attempts) == ("sent", 1)
        assert stored_message.sent_at == T0
        assert not any(token in stored_message.body for token in tokens.values())
        assert "/links/invoices/[sent]/" in stored_message.body
    after = stored(invoice)
    assert (after.status, after.sent_at) == ("sent", T0)


def test_the_mail_is_in_the_tenants_language(tenant, contacts):
    tenant.language = "fi"
    tenant.save()
    with clock.frozen(T0):
        invoice = invoice_issue_through_services(tenant, invoice_date=T0.date())
        run_task(invoice)
        outbox_relay()

    body = mail.outbox[0].body.replace("\xa0", " ")
    assert "74,40 €" in body
    assert "2.9.2024" in body


def test_issuing_renders_nothing_until_the_issuing_transaction_has_committed(
    tenant, contacts, renders, django_capture_on_commit_callbacks
):
    from subscriptions.services import subscription_create

    catalog_create()
    with clock.frozen(datetime.date(2024, 8, 1)):
        subscription_create(
            tenant=tenant,
            seller=SellerEntityFactory(),
            currency="EUR",
            edition="professional",
            seats=2,
            storage_gb=10,
            period_months=1,
            first_period_start=datetime.date(2024, 8, 1),
            actor=None,
        )
    run = BillingRun.objects.create(kind="invoicing", run_date=T0.date(), started_at=T0)
    with clock.frozen(T0):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            invoices_issue(billing_run=run, invoice_date=T0.date())
        invoice = Invoice.objects.get()
        # Issued, but not rendered and not delivered: that waits for the commit.
        assert renders == []
        assert stored(invoice).pdf is None
        assert OutboxMessage.objects.count() == 0
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()

    assert renders == [invoice.pk]
    assert sorted(m.to[0] for m in mail.outbox) == ["accountant@numero.test", "ap@aalto.test"]
    assert stored(invoice).status == "sent"


def test_queueing_enqueues_the_task_after_commit(
    invoice, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(invoice_deliver_task, "delay", lambda **kw: enqueued.append(kw))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice_delivery_queue(invoice=invoice)
    assert enqueued == []
    for callback in callbacks:
        callback()

    assert enqueued == [{"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}]


def test_the_tasks_are_named_acked_late_and_tenant_bound(invoice, other_tenant, contacts):
    assert invoice_deliver_task.name == "billing.invoice_deliver"
    assert outbox_relay_task.name == "accounts.outbox_relay"
    assert invoice_deliveries_resume_task.name == "billing.invoice_deliveries_resume"
    assert invoice_deliver_task.acks_late is True
    assert outbox_relay_task.acks_late is True
    with pytest.raises(Invoice.DoesNotExist):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": other_tenant.pk, "invoice_id": invoice.pk}
        ).get()
    assert OutboxMessage.objects.count() == 0


def test_user_contacts_get_it_at_their_current_address_and_a_contact_added_later_too(
    tenant, invoice, contacts
):
    user = MembershipFactory(tenant=tenant, role="billing").user
    BillingContactFactory(tenant=tenant, user=user, email="", name="")
    gone = MembershipFactory(tenant=tenant, role="billing", is_active=False).user
    BillingContactFactory(tenant=tenant, user=gone, email="", name="")
    with clock.frozen(T0):
        run_task(invoice)
        late = BillingContactFactory(tenant=tenant, email="late@aalto.test", name="Late")
        assert run_task(invoice) == 1

    assert sorted(m.to for m in messages_of(invoice)) == sorted(
        [user.email, "late@aalto.test", *[c.email for c in contacts]]
    )
    assert InvoiceLink.objects.get(email="late@aalto.test").contact == late


def test_without_billing_contacts_the_admins_get_it_and_it_is_logged(tenant, invoice):
    admin = MembershipFactory(tenant=tenant, role="admin").user
    MembershipFactory(tenant=tenant, role="member")

    with mock.patch.object(delivery.logger, "warning") as warning, clock.frozen(T0):
        run_task(invoice)
        outbox_relay()

    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "no billing contacts" in mail.outbox[0].body
    assert InvoiceLink.objects.get().contact is None
    warning.assert_called_once()


def test_with_nobody_to_send_to_nothing_is_written_and_the_sweep_tries_again(invoice, monkeypatch):
    with mock.patch.object(delivery.logger, "error") as error, clock.frozen(T0):
        assert run_task(invoice) == 0
    error.assert_called_once()
    assert OutboxMessage.objects.count() == InvoiceLink.objects.count() == 0
    assert stored(invoice).pdf is not None

    queued = []
    monkeypatch.setattr(invoice_deliver_task, "delay", lambda **kw: queued.append(kw))
    issued_at = stored(invoice).issued_at
    with clock.frozen(issued_at + datetime.timedelta(minutes=5)):
        assert invoice_deliveries_resume() == 0  # too fresh: its own task may still run
    with clock.frozen(issued_at + datetime.timedelta(minutes=15)):
        assert invoice_deliveries_resume() == 1
    with clock.frozen(issued_at + datetime.timedelta(days=4)):
        assert invoice_deliveries_resume() == 0  # given up on: the error log has it
    assert queued == [{"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}]


def test_the_sweep_leaves_delivered_invoices_alone(invoice, contacts, monkeypatch):
    with clock.frozen(T0):
        run_task(invoice)
    queued = []
    monkeypatch.setattr(invoice_deliver_task, "delay", lambda **kw: queued.append(kw))
    with clock.frozen(stored(invoice).issued_at + datetime.timedelta(hours=1)):
        assert invoice_deliveries_resume() == 0
    assert queued == []


def test_a_failing_mail_server_is_retried_with_backoff_and_the_message_ends_failed(
    invoice, tenant, failing_mail
):
    BillingContactFactory(tenant=tenant, email="ap@aalto.test", name="AP")
    failing_mail.failures = 100
    with clock.frozen(T0):
        run_task(invoice)
        [message] = messages_of(invoice)
    expected_delays = [
        datetime.timedelta(minutes=1),
        datetime.timedelta(minutes=5),
        datetime.timedelta(minutes=30),
        datetime.timedelta(hours=2),
    ]
    assert list(RETRY_DELAYS) == expected_delays
    assert MAX_ATTEMPTS == 5

    now = T0
    for attempt, delay in enumerate(expected_delays, start=1):
        with clock.frozen(now):
            assert outbox_relay() == {"retry": 1}
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.next_attempt_at == now + delay
        assert message.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        # Not due a second earlier.
        with clock.frozen(now + delay - datetime.timedelta(seconds=1)):
            assert outbox_relay() == {}
        now += delay
    with clock.frozen(now):
        assert outbox_relay() == {"failed": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 5)
    assert failing_mail.calls == 5
    with clock.frozen(now + datetime.timedelta(days=1)):
        assert outbox_relay() == {}
    assert mail.outbox == []
    # Nothing went out: the invoice is not "sent".
    assert stored(invoice).status == "issued"


def test_a_server_that_recovers_sends_the_message_on_the_next_attempt(
    invoice, contacts, failing_mail
):
    failing_mail.failures = 1
    with clock.frozen(T0):
        run_task(invoice)
        assert outbox_relay() == {"retry": 1, "sent": 1}
    assert stored(invoice).status == "issued"  # one message is still pending
    with clock.frozen(T0 + datetime.timedelta(minutes=1)):
        assert outbox_relay() == {"sent": 1}

    assert len(mail.outbox) == 2
    assert sorted(m.attempts for m in messages_of(invoice)) == [1, 2]
    assert stored(invoice).status == "sent"


def test_a_refused_address_fails_at_once_and_does_not_hold_the_invoice_back(
    invoice, contacts, settings, monkeypatch
):
    real_send = LocmemBackend.send_messages

    def refusing(self, messages):
        if messages[0].to == ["ap@aalto.test"]:
            raise smtplib.SMTPRecipientsRefused({"ap@aalto.test": (550, b"No such user")})
        return real_send(self, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", refusing)
    with clock.frozen(T0):
        run_task(invoice)
        assert outbox_relay() == {"failed": 1, "sent": 1}

    failed = OutboxMessage.objects.get(to="ap@aalto.test")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("SMTPRecipientsRefused")
    assert [m.to for m in mail.outbox] == [["accountant@numero.test"]]
    assert stored(invoice).status == "sent"


def test_removing_a_contact_cancels_its_unsent_message_and_revokes_its_link(
    tenant, invoice, contacts
):
    with clock.frozen(T0):
        run_task(invoice)
        billing_contact_remove(contact=contacts[0], actor=None)
        assert outbox_relay() == {"sent": 1}

    removed = OutboxMessage.objects.get(to="ap@aalto.test")
    assert removed.status == "cancelled"
    assert "/links/invoices/[sent]/" in removed.body
    link = InvoiceLink.objects.get(email="ap@aalto.test")
    assert (link.revoked_at, link.contact) == (T0, None)
    assert InvoiceLink.objects.get(email="accountant@numero.test").revoked_at is None
    assert [m.to for m in mail.outbox] == [["accountant@numero.test"]]
    assert stored(invoice).status == "sent"


def test_the_invoice_moves_to_sent_only_from_issued(invoice, contacts):
    with clock.frozen(T0):
        run_task(invoice)
        outbox_relay()
    invoice = stored(invoice)
    assert invoice_status_move(invoice=invoice, to=InvoiceState.PAID, actor=None)

    assert invoice_sent_mark(invoice_id=invoice.pk) is False
    assert stored(invoice).status == "paid"


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_send_every_message_once(tenant, settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.billing.test_delivery.SlowBackend"
    from django.db import connection

    # Committed for real here, so after-commit work runs at once: keep the messages pending
    # for the two relays below.
    monkeypatch.setattr(invoice_deliver_task, "delay", lambda **kw: None)
    monkeypatch.setattr(outbox_relay_task, "delay", lambda **kw: None)
    with scopes_disabled():
        for n in range(12):
            BillingContactFactory(tenant=tenant, email=f"ap{n}@aalto.test", name=f"AP {n}")
        with clock.frozen(T0):
            invoice = invoice_issue_through_services(tenant, invoice_date=T0.date())
            run_task(invoice)
        # The order's confirmations went to the outbox too; this is about the invoice's.
        OutboxMessage.objects.exclude(kind="invoice_link").delete()
        assert OutboxMessage.objects.filter(status="pending").count() == 12
    mail.outbox = []
    barrier = threading.Barrier(2)
    results, errors = [], []

    def relay():
        try:
            barrier.wait()
            results.append(outbox_relay())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    with clock.frozen(T0):  # process-wide: around the threads, not inside them
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert sum(result.get("sent", 0) for result in results) == 12
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"ap{n}@aalto.test" for n in range(12))
    with scopes_disabled():
        assert OutboxMessage.objects.filter(status="sent", attempts=1).count() == 12
        assert stored(invoice).status == "sent"


def test_the_relay_task_runs_the_relay(invoice, contacts):
    with clock.frozen(T0):
        run_task(invoice)
        assert outbox_relay_task.apply().get() == {"sent": 2}


def test_the_beat_runs_the_relay_every_minute_and_the_resume_sweep(settings):
    from severa.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["outbox-relay"] == {"task": "accounts.outbox_relay", "schedule": 60}
    assert schedule["billing-invoice-deliveries-resume"] == {
        "task": "billing.invoice_deliveries_resume",
        "schedule": 15 * 60,
    }
    assert {"accounts.outbox_relay", "billing.invoice_deliveries_resume"} <= set(app.tasks)
