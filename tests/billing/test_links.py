"""E-mailed invoice links and the pages that show invoices (DESIGN §3.7; RELIABILITY.md
"Links, accounts and sessions"): a link shows the invoice and its PDF without any sign-in and
logs the view; an expired, revoked (contact removed) or tampered token gets the same 404;
the tenant's Billing pages list and open invoices; operators see and retry the outbox."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, OutboxMessage
from accounts.outbox import outbox_relay
from billing.contacts import billing_contact_remove
from billing.delivery_tasks import invoice_deliver_task
from billing.issuing import credit_note_issue
from billing.models import Invoice, InvoiceLink, InvoiceLinkView
from billing.references import reference_display
from severa import clock
from tests.factories import (
    BillingContactFactory,
    BillingDetailsFactory,
    MembershipFactory,
    invoice_create,
    invoice_issue_through_services,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
T0 = datetime.datetime(2024, 8, 19, 6, 0, tzinfo=datetime.UTC)
LINK = re.compile(r"http://[^\s/]+(/links/invoices/[A-Za-z0-9_-]+/)")
INVALID = "This link is not valid"


def deliver(invoice) -> dict[str, str]:
    """Run the delivery and the relay; the link path each recipient got, by address."""
    sent_before = len(mail.outbox)
    invoice_deliver_task.apply(
        kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
    ).get()
    outbox_relay()
    return {m.to[0]: LINK.search(m.body).group(1) for m in mail.outbox[sent_before:]}


@pytest.fixture
def contacts(tenant):
    return [
        BillingContactFactory(tenant=tenant, email="ap@aalto.test", name="AP"),
        BillingContactFactory(tenant=tenant, email="cfo@aalto.test", name="CFO"),
    ]


@pytest.fixture
def invoice(tenant, contacts):
    """2 seats for August (60.00) and a third from the 16th (15.48), 24 % VAT: 93.60."""
    tenant.business_id, tenant.vat_number = "0112038-9", "FI01120389"
    tenant.save()
    BillingDetailsFactory(tenant=tenant)
    return invoice_issue_through_services(tenant, upgrade_to_seats=3)


@pytest.fixture
def links(invoice):
    with clock.frozen(T0):
        return deliver(invoice)


@pytest.fixture
def anonymous():
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mail client/1.0")


def assert_link_headers(response):
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie: nothing to sign in with


def test_a_valid_link_shows_the_invoice_without_any_sign_in_and_logs_the_view(
    invoice, links, anonymous
):
    path = links["ap@aalto.test"]
    viewed_at = T0 + datetime.timedelta(days=3)

    with clock.frozen(viewed_at):
        response = anonymous.get(path)

    assert response.status_code == 200
    assert_link_headers(response)
    page = response.content.decode()
    first, second = invoice.lines.all()
    for shown in [
        f"Invoice {invoice.display_number}",
        invoice.seller_snapshot["name"],
        "Keilaranta 1",
        "2464491-9",
        "FI24644919",
        "Aalto Consulting Oy",
        "Mannerheimintie 12 B",
        first.description,
        second.description,
        "1 Aug 2024 – 31 Aug 2024",
        "16 Aug 2024 – 31 Aug 2024",
        "€60.00",
        "€15.48",
        "24 %",
        "€75.48",
        "€18.12",
        "€93.60",
        reference_display(invoice.reference, country="FI"),
        "2 Sept 2024",
        "FI21 1234 5600 0007 85",
        "NDEAFIHH",
        ">Sent<",
        f"{path}pdf",
    ]:
        assert shown in page, shown
    # Read-only: no form of any kind, nothing about signing in or passwords.
    assert "<form" not in page
    assert "password" not in page.lower()
    assert "sign in" not in page.lower()
    assert "session" not in anonymous.cookies
    with scopes_disabled():
        [view] = InvoiceLinkView.objects.all()
    assert (view.kind, view.viewed_at, view.ip, view.user_agent) == (
        "view",
        viewed_at,
        "203.0.113.7",
        "Mail client/1.0",
    )
    assert view.link == InvoiceLink.objects.get(email="ap@aalto.test")


def test_the_pdf_link_downloads_the_stored_pdf_and_is_logged(invoice, links, anonymous):
    with clock.frozen(T0):
        response = anonymous.get(links["cfo@aalto.test"] + "pdf")

    assert response.status_code == 200
    assert_link_headers(response)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="invoice-{invoice.display_number}.pdf"'
    )
    with scopes_disabled():
        assert response.content == bytes(Invoice.objects.get(pk=invoice.pk).pdf)
        assert list(InvoiceLinkView.objects.values_list("kind", "link__email")) == [
            ("pdf", "cfo@aalto.test")
        ]


def test_expired_revoked_and_tampered_tokens_all_get_the_same_404(
    invoice, links, contacts, anonymous
):
    valid = links["cfo@aalto.test"]
    token = valid.split("/")[-2]
    tampered = valid.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    expires_at = InvoiceLink.objects.get(email="cfo@aalto.test").expires_at
    assert expires_at == T0 + datetime.timedelta(days=180)
    # The AP contact is removed: its link is revoked at once.
    with clock.frozen(T0):
        billing_contact_remove(contact=contacts[0], actor=None)
    revoked = links["ap@aalto.test"]

    answers = {}
    with clock.frozen(expires_at - datetime.timedelta(seconds=1)):
        assert anonymous.get(valid).status_code == 200  # still valid a second before
        answers["revoked"] = anonymous.get(revoked)
        answers["revoked pdf"] = anonymous.get(revoked + "pdf")
        answers["tampered"] = anonymous.get(tampered)
        answers["tampered pdf"] = anonymous.get(tampered + "pdf")
        answers["unknown"] = anonymous.get("/links/invoices/" + "x" * 43 + "/")
        answers["too long"] = anonymous.get("/links/invoices/" + "x" * 500 + "/")
    with clock.frozen(expires_at):
        answers["expired"] = anonymous.get(valid)
        answers["expired pdf"] = anonymous.get(valid + "pdf")

    bodies = set()
    for name, response in answers.items():
        assert response.status_code == 404, name
        assert_link_headers(response)
        assert INVALID in response.content.decode(), name
        assert "<form" not in response.content.decode()
        bodies.add(response.content)
    assert len(bodies) == 1  # nothing tells one refusal from another
    # Only the one valid opening was logged.
    with scopes_disabled():
        assert InvoiceLinkView.objects.count() == 1


def test_a_link_only_reads(links, anonymous):
    path = links["ap@aalto.test"]
    for method in ("post", "put", "patch", "delete"):
        response = getattr(anonymous, method)(path)
        assert response.status_code == 405, method
        assert_link_headers(response)
    with scopes_disabled():
        assert InvoiceLinkView.objects.count() == 0


def test_a_credit_note_link_says_what_it_credits(invoice, links, anonymous):
    with clock.frozen(datetime.date(2024, 8, 26)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)
        note_links = deliver(note)

    with clock.frozen(datetime.date(2024, 8, 27)):
        page = anonymous.get(note_links["ap@aalto.test"]).content.decode()
        credited = anonymous.get(links["ap@aalto.test"]).content.decode()

    assert f"Credit note {note.display_number}" in page
    assert f"{invoice.display_number} (19 Aug 2024)" in page
    assert "-€93.60" in page
    assert "Due date" not in page
    # The credited invoice is marked credited; its link shows that.
    assert ">Credited<" in credited


# The tenant's Billing pages.


def test_the_billing_page_lists_invoices_and_credit_notes_each_opening(
    tenant, invoice, admin_user, verified_client
):
    with clock.frozen(datetime.date(2024, 8, 26)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)
    client = verified_client(admin_user)

    page = client.get(f"/t/{tenant.pk}/billing/").content.decode()

    assert "<title>Billing · Aalto Consulting Oy</title>" in page
    for shown in [
        invoice.display_number,
        note.display_number,
        "19 Aug 2024",
        "2 Sept 2024",
        "26 Aug 2024",
        "€93.60",
        "-€93.60",
        ">Credited<",
        ">Issued<",
        f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/",
        f"/t/{tenant.pk}/billing/invoices/{note.pk}/pdf",
    ]:
        assert shown in page, shown
    detail = client.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/")
    assert detail.status_code == 200
    assert "16 Aug 2024 – 31 Aug 2024" in detail.content.decode()
    assert "FI21 1234 5600 0007 85" in detail.content.decode()
    pdf = client.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(Invoice.objects.get(pk=invoice.pk).pdf)
    # A second download serves the stored document.
    assert client.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/pdf").content == pdf.content


def test_invoices_are_for_billing_roles_and_own_tenant_only(
    tenant, other_tenant, invoice, member_user, other_admin, verified_client
):
    foreign = invoice_create(other_tenant)
    billing_user = MembershipFactory(tenant=tenant, role="billing").user

    client = verified_client(billing_user)
    assert client.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/").status_code == 200
    assert client.get(f"/t/{tenant.pk}/billing/invoices/{foreign.pk}/").status_code == 404
    assert client.get(f"/t/{tenant.pk}/billing/invoices/{foreign.pk}/pdf").status_code == 404
    assert foreign.display_number not in client.get(f"/t/{tenant.pk}/billing/").content.decode()
    member = verified_client(member_user)
    assert member.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/").status_code == 403
    other = verified_client(other_admin)
    assert other.get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/").status_code == 404


def test_the_billing_page_query_count_is_flat_in_the_number_of_invoices(
    tenant, admin_user, verified_client
):
    client = verified_client(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"/t/{tenant.pk}/billing/").status_code == 200
        return len(context.captured_queries)

    invoice_create(tenant)
    queries()  # the first request of a session loads a few things once
    one = queries()
    for _ in range(9):
        invoice_create(tenant)
    assert queries() == one


# The operators' outbox page.


class DownBackend:
    """A mail server that refuses every connection, as Django's SMTP backend reports it."""

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def close(self):
        pass

    def send_messages(self, messages):
        self.open()


def test_a_failed_message_shows_on_the_outbox_page_and_a_retry_sends_it_once(
    tenant,
    invoice,
    operator,
    verified_client,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "tests.billing.test_links.DownBackend"
    now = T0
    with clock.frozen(now):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
        ).get()
    # Five attempts 1 min, 5 min, 30 min and 2 h apart: then failed.
    for delay in (0, 1, 5, 30, 120):
        now += datetime.timedelta(minutes=delay)
        with clock.frozen(now):
            outbox_relay()
    with scopes_disabled():
        assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("failed", 5)}
        failed = OutboxMessage.objects.get(to="ap@aalto.test")
    client = verified_client(operator)

    page = client.get("/operator/outbox/?status=failed").content.decode()
    assert "ap@aalto.test" in page and "cfo@aalto.test" in page
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in page
    assert f"/operator/outbox/{failed.pk}/retry/" in page
    assert "Failed (2)" in page
    assert "ap@aalto.test" not in client.get("/operator/outbox/?status=sent").content.decode()
    assert "/operator/outbox/" in client.get("/operator/").content.decode()

    # The server is back; the operator retries one message.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with clock.frozen(now), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/operator/outbox/{failed.pk}/retry/", {"status": "failed"})
    assert response.status_code == 302
    assert response["Location"] == "/operator/outbox/?status=failed"
    assert [m.to for m in mail.outbox] == [["ap@aalto.test"]]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.sent_at) == ("sent", 1, now)
    with scopes_disabled():
        assert (
            AuditEvent.objects.get(action="outbox_message.retried").details["previous_attempts"]
            == 5
        )
        assert Invoice.objects.get(pk=invoice.pk).status == "sent"

    # A second press, or another relay run, sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/operator/outbox/{failed.pk}/retry/")
    assert again.status_code == 302
    with clock.frozen(now + datetime.timedelta(days=1)):
        outbox_relay()
    assert len(mail.outbox) == 1
    assert (
        "Only a failed message can be sent again."
        in client.get("/operator/outbox/").content.decode()
    )


def test_the_outbox_page_is_for_operators_only(admin_user, verified_client, tenant, invoice):
    client = verified_client(admin_user)
    assert client.get("/operator/outbox/").status_code == 404
    with scopes_disabled():
        message_id = OutboxMessage.objects.create(
            tenant=tenant,
            kind="invoice_link",
            to="ap@aalto.test",
            subject="s",
            body="b",
            dedupe_key="k",
            status="failed",
            next_attempt_at=T0,
            created_at=T0,
        ).pk
    assert client.post(f"/operator/outbox/{message_id}/retry/").status_code == 404
    with scopes_disabled():
        assert OutboxMessage.objects.get(pk=message_id).status == "failed"
