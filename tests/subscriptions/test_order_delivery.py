"""Delivering an order confirmation (DESIGN §3.6, §3.7): the PDF rendered and stored once,
e-mailed once to every billing contact, whatever the worker does twice."""

import datetime
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django_scopes import scopes_disabled

from accounts.models import OutboxMessage
from accounts.outbox import outbox_relay
from severa import clock
from subscriptions import delivery
from subscriptions.delivery import (
    order_confirmation_deliver,
    order_confirmation_pdf_bytes,
    order_confirmation_queue,
)
from subscriptions.models import OrderConfirmation
from subscriptions.tasks import order_confirmation_send
from tests.factories import MembershipFactory, OrderConfirmationFactory

pytestmark = pytest.mark.django_db
CONTACTS = ["anna@aalto.test", "external.accountant@numero.test"]
T0 = datetime.datetime(2025, 6, 5, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def contacts(monkeypatch):
    """The tenant's billing contacts (billing.contacts is the billing app's; its own tests
    cover who counts as a contact)."""
    addresses = {"value": list(CONTACTS)}
    monkeypatch.setattr(delivery, "billing_contact_addresses", lambda tenant: addresses["value"])
    return addresses


@pytest.fixture
def order(tenant, unscoped):
    return OrderConfirmationFactory(tenant=tenant)


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = delivery.order_confirmation_pdf

    def counting(*, order):
        calls.append(order.pk)
        return real(order=order)

    monkeypatch.setattr(delivery, "order_confirmation_pdf", counting)
    return calls


def stored(order) -> OrderConfirmation:
    with scopes_disabled():
        return OrderConfirmation.objects.get(pk=order.pk)


def run_task(order):
    """The task, then the outbox relay that sends what it wrote (after its commit)."""
    written = order_confirmation_send.apply(
        kwargs={"tenant_id": order.tenant_id, "order_id": order.pk}
    ).get()
    outbox_relay()
    return written


def test_the_task_emails_every_billing_contact_once_with_the_pdf_attached(order, contacts, renders):
    with clock.frozen(clock.now()):
        sent = run_task(order)
        now = clock.now()

    assert sent == CONTACTS
    assert sorted(message.to[0] for message in mail.outbox) == sorted(CONTACTS)
    assert all(len(message.to) == 1 and not message.cc for message in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == f"Order confirmation {order.number} · Aalto Consulting Oy"
    assert "€237.94" in message.body
    assert f"/t/{order.tenant_id}/upgrades/orders/{order.pk}/" in message.body
    assert "because you are a billing contact" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"order-confirmation-{order.number}.pdf"
    assert mimetype == "application/pdf"
    after = stored(order)
    assert content == bytes(after.pdf)
    assert content.startswith(b"%PDF-")
    assert after.pdf_rendered_at == now
    assert after.emailed_at == now
    assert renders == [order.pk]


def test_the_task_writes_one_outbox_message_per_contact_with_the_pdf_and_sends_none(
    order, contacts
):
    with clock.frozen(T0):
        assert (
            order_confirmation_send.apply(
                kwargs={"tenant_id": order.tenant_id, "order_id": order.pk}
            ).get()
            == CONTACTS
        )

    assert mail.outbox == []
    with scopes_disabled():
        messages = list(OutboxMessage.objects.order_by("to"))
    assert [(m.tenant_id, m.kind, m.to, m.status, m.dedupe_key) for m in messages] == [
        (
            order.tenant_id,
            "order_confirmation",
            address,
            "pending",
            f"order_confirmation:{order.pk}:{address}",
        )
        for address in CONTACTS
    ]
    assert [(m.attachment_name, m.attachment_type) for m in messages] == [
        (f"order-confirmation-{order.number}.pdf", "application/pdf")
    ] * 2
    assert bytes(messages[0].attachment) == bytes(stored(order).pdf)
    assert stored(order).emailed_at == T0


def test_running_the_task_twice_renders_once_and_sends_once(order, contacts, renders):
    run_task(order)
    first_pdf = bytes(stored(order).pdf)

    assert run_task(order) == []
    assert run_task(order) == []

    assert len(mail.outbox) == len(CONTACTS)
    assert renders == [order.pk]
    assert bytes(stored(order).pdf) == first_pdf


def test_a_redelivery_after_the_pdf_was_stored_but_before_the_mail_renders_nothing(
    order, contacts, renders
):
    # The worker died after storing the PDF: the redelivered task only sends.
    order_confirmation_pdf_bytes(order=order)
    assert renders == [order.pk]

    run_task(order)

    assert renders == [order.pk]
    assert len(mail.outbox) == len(CONTACTS)


def test_the_subject_and_body_are_in_the_tenants_language(tenant, contacts, unscoped):
    tenant.language = "fi"
    tenant.save()
    order = OrderConfirmationFactory(tenant=tenant)

    run_task(order)

    body = mail.outbox[0].body.replace("\xa0", " ")
    assert "237,94 €" in body
    assert "5.6.2025" in body


def test_with_no_billing_contacts_the_admins_get_it_and_it_is_logged(
    tenant, order, contacts, unscoped
):
    contacts["value"] = []
    admin = MembershipFactory(tenant=tenant, role="admin").user
    MembershipFactory(tenant=tenant, role="billing")
    MembershipFactory(tenant=tenant, role="member")

    with mock.patch.object(delivery.logger, "warning") as warning:
        sent = run_task(order)

    assert sent == [admin.email]
    assert [message.to for message in mail.outbox] == [[admin.email]]
    assert "no billing contacts" in mail.outbox[0].body
    warning.assert_called_once()
    assert "no billing contacts" in warning.call_args.args[0]
    assert stored(order).emailed_at is not None


def test_with_neither_contacts_nor_admins_nothing_is_sent_and_it_stays_unsent(order, contacts):
    contacts["value"] = []

    with mock.patch.object(delivery.logger, "error") as error:
        assert run_task(order) == []

    assert mail.outbox == []
    error.assert_called_once()
    after = stored(order)
    assert after.emailed_at is None
    assert after.pdf is not None


def test_an_smtp_failure_keeps_the_messages_pending_and_the_next_relay_sends_them_once(
    order, contacts, renders
):
    real_send = mail.EmailMessage.send
    failures = {"left": len(CONTACTS)}

    def flaky_send(message, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(message, *args, **kwargs)

    start = datetime.datetime(2025, 6, 5, 9, 0, tzinfo=datetime.UTC)
    with mock.patch.object(mail.EmailMessage, "send", flaky_send):
        with clock.frozen(start):
            # The task writes the messages and the order counts as delivered; the relay's
            # attempt fails and is kept for a retry a minute later.
            assert run_task(order) == CONTACTS
            assert stored(order).emailed_at == start
            assert mail.outbox == []
            with scopes_disabled():
                messages = list(OutboxMessage.objects.order_by("to"))
            assert [(m.to, m.status, m.attempts, m.next_attempt_at) for m in messages] == [
                (address, "pending", 1, start + datetime.timedelta(minutes=1))
                for address in CONTACTS
            ]
            assert messages[0].last_error == (
                "SMTPServerDisconnected: Connection unexpectedly closed"
            )
            assert outbox_relay() == {}
        with clock.frozen(start + datetime.timedelta(minutes=1)):
            assert outbox_relay() == {"sent": 2}
            assert outbox_relay() == {}
            # A task run again writes nothing more.
            assert run_task(order) == []

    assert sorted(message.to[0] for message in mail.outbox) == sorted(CONTACTS)
    assert [len(message.attachments) for message in mail.outbox] == [1, 1]
    assert renders == [order.pk]
    with scopes_disabled():
        # Sent: the stored copy keeps no attachment (the order keeps its PDF).
        assert list(OutboxMessage.objects.values_list("status", "attempts", "attachment")) == [
            ("sent", 2, None),
            ("sent", 2, None),
        ]


def test_a_refused_address_does_not_stop_the_others(order, contacts):
    real_send = mail.EmailMessage.send

    def refusing_send(message, *args, **kwargs):
        if message.to == [CONTACTS[0]]:
            raise smtplib.SMTPRecipientsRefused({CONTACTS[0]: (550, b"No such user")})
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", refusing_send):
        assert run_task(order) == CONTACTS

    assert [message.to for message in mail.outbox] == [[CONTACTS[1]]]
    assert stored(order).emailed_at is not None
    with scopes_disabled():
        # The refused one waits, failed, on the operators' outbox page.
        assert dict(OutboxMessage.objects.values_list("to", "status")) == {
            CONTACTS[0]: "failed",
            CONTACTS[1]: "sent",
        }


def test_the_task_retries_transient_errors_with_backoff_and_acks_late():
    assert order_confirmation_send.name == "subscriptions.order_confirmation_send"
    assert order_confirmation_send.acks_late is True
    assert issubclass(smtplib.SMTPException, order_confirmation_send.autoretry_for)
    assert order_confirmation_send.retry_backoff == 30
    assert order_confirmation_send.retry_jitter is True
    assert 1 <= order_confirmation_send.max_retries <= 6


def test_the_task_acts_only_for_its_own_tenant(order, other_tenant, contacts):
    with pytest.raises(OrderConfirmation.DoesNotExist):
        order_confirmation_send.apply(
            kwargs={"tenant_id": other_tenant.pk, "order_id": order.pk}
        ).get()
    assert mail.outbox == []


def test_queueing_enqueues_the_task_only_after_commit(
    order, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(order_confirmation_send, "delay", lambda **kw: enqueued.append(kw))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_confirmation_queue(order=order)
    assert enqueued == []

    for callback in callbacks:
        callback()
    assert enqueued == [{"tenant_id": order.tenant_id, "order_id": order.pk}]


def test_a_download_before_the_worker_ran_renders_and_stores_the_pdf_once(order, renders):
    first = order_confirmation_pdf_bytes(order=stored(order))
    second = order_confirmation_pdf_bytes(order=stored(order))

    assert first == second
    assert first.startswith(b"%PDF-")
    assert renders == [order.pk]
    assert stored(order).emailed_at is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_once(tenant, contacts):
    import threading

    from django.db import connection

    with scopes_disabled():
        order = OrderConfirmationFactory(tenant=tenant)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            with scopes_disabled():
                results.append(order_confirmation_deliver(order=stored(order)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(len(sent) for sent in results) == [0, len(CONTACTS)]
    assert sorted(message.to[0] for message in mail.outbox) == sorted(CONTACTS)


def test_the_billing_apps_contacts_get_it_users_at_their_current_address(tenant, unscoped):
    """No stand-in here: the contacts come from billing.contacts."""
    from tests.factories import BillingContactFactory

    user = MembershipFactory(tenant=tenant, role="billing").user
    BillingContactFactory(tenant=tenant, user=user, email="", name="")
    external = BillingContactFactory(tenant=tenant, email="ap@numero.test", name="Numero AP")
    MembershipFactory(tenant=tenant, role="admin")  # an admin is not a contact by being one
    order = OrderConfirmationFactory(tenant=tenant)

    sent = run_task(order)

    assert sorted(sent) == sorted([user.email, external.email])
    assert sorted(message.to[0] for message in mail.outbox) == sorted(sent)


def test_a_confirmed_quote_is_delivered_after_commit_with_the_quotes_figures(
    tenant, admin_user, contacts, django_capture_on_commit_callbacks, monkeypatch, unscoped
):
    """The whole path: quote_confirm queues the delivery in its transaction; after the
    commit the task renders the order the quote service froze and e-mails it."""
    import datetime

    from subscriptions.services import Desired, quote_confirm, quote_create
    from tests.factories import SubscriptionFactory
    from tests.subscriptions.test_order_documents import pdf_text

    monkeypatch.setattr(
        order_confirmation_send,
        "delay",
        lambda **kwargs: order_confirmation_send.apply(kwargs=kwargs),
    )
    subscription = SubscriptionFactory(tenant=tenant, seats=5)
    with clock.frozen(datetime.date(2025, 6, 5)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
        with django_capture_on_commit_callbacks(execute=True):
            order = quote_confirm(quote=quote, actor=admin_user)

    assert sorted(message.to[0] for message in mail.outbox) == sorted(CONTACTS)
    [(_name, pdf, _type)] = mail.outbox[0].attachments
    text = pdf_text(pdf)
    assert order.number in text
    assert order.lines.get().description in text
    # 30.00 × 3 months × 1 seat × 57/92 = 55.76 + 25.5 % VAT 14.22 = 69.98.
    assert "€69.98" in text
    # The next full period: 30.00 × 3 × 6 = 540.00 + 137.70 VAT = 677.70.
    assert "Next full period" in text
    assert "€677.70" in text
    assert "€137.70" in text


def test_an_order_for_a_period_in_the_future_says_the_invoice_waits_for_its_start(
    tenant, contacts, unscoped
):
    """Provisioned on 2025-05-07 for a first period 2025-08-01..2025-10-31: confirmed at
    once, invoiced after the period has started (billing.invoicing.uninvoiced_orders)."""
    import datetime

    from subscriptions.services import subscription_create
    from tests.factories import SellerEntityFactory, catalog_create

    catalog_create()
    with clock.frozen(datetime.date(2025, 5, 7)):
        subscription = subscription_create(
            tenant=tenant,
            seller=SellerEntityFactory(),
            currency="EUR",
            edition="professional",
            seats=5,
            storage_gb=10,
            period_months=3,
            first_period_start=datetime.date(2025, 8, 1),
            actor=None,
        )
    order = OrderConfirmation.objects.get(subscription=subscription)

    run_task(order)

    body = mail.outbox[0].body
    assert (
        "The period starts on 1 Aug 2025: the invoice follows in the first weekly invoicing "
        "run on or after that day." in " ".join(body.split())
    )
    assert "next weekly invoicing run" not in body


@pytest.mark.django_db(transaction=True)
def test_a_delivery_rolled_back_after_writing_its_mail_sends_nothing(tenant, contacts):
    class Refused(Exception):
        pass

    with scopes_disabled():
        order = OrderConfirmationFactory(tenant=tenant)
        with pytest.raises(Refused), transaction.atomic():
            assert order_confirmation_deliver(order=stored(order)) == CONTACTS
            raise Refused

    assert mail.outbox == []
    assert outbox_relay() == {}
    with scopes_disabled():
        assert OutboxMessage.objects.count() == 0
    assert stored(order).emailed_at is None
