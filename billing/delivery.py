"""Delivery of issued invoices and credit notes (DESIGN §3.6, §3.7).

After the issuing transaction commits, `billing.issuing.invoice_issued` calls
`invoice_delivery_queue`, which enqueues the Celery task `billing.invoice_deliver`. The task
runs `invoice_deliver`:

1. the PDF is rendered once and stored on the invoice (`billing.documents.invoice_pdf_bytes`:
   outside any lock, stored under the invoice's row lock only if still missing);
2. under the invoice's row lock, every billing contact of the tenant gets an `InvoiceLink`
   and an outbox message (`accounts.OutboxMessage`, tied to the invoice and link by an
   `InvoiceMessage`), written in one transaction. A link is unique per
   invoice and address and a message per `dedupe_key`, so running the task twice (acks_late,
   a redelivery after a crash, two workers) writes each once; a contact added since the
   last run gets its link on the next one;
3. in the same transaction, the invoice's e-invoice is queued when the buyer takes one
   (`billing.einvoice.delivery`, relayed with its own retries);
4. the outbox relay (`accounts.outbox`) sends the messages with retries; once none of the
   invoice's messages is pending and at least one went out, the invoice moves from issued
   to sent (`invoice_sent_mark`, called back by the relay: `invoice_message_settled`).

A partner's consolidated invoice goes the same way to the partner's billing contacts (or,
with none, its active users), inside the partner's scope, and as an e-invoice when the
partner's billing details give an eInvoice address or a Peppol id.

A tenant with no billing contact gets the links at its administrators' addresses instead
(logged as a warning), as order confirmations do, so nobody misses an invoice; those links
have no contact, so only their expiry ends them. With neither, nothing is written and an
error is logged; `invoice_deliveries_resume` (Celery beat) queues again the recent invoices
that have no link yet, which also covers a task lost between the commit and the broker.

Removing a billing contact revokes its links and cancels its unsent messages
(`billing_contact_removed`, inside the removal's transaction).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django_scopes import scopes_disabled

from accounts.mail import mail_render
from accounts.models import OutboxMessage, OutboxStatus
from accounts.outbox import outbox_message_add, outbox_messages_cancel, outbox_relay_soon
from accounts.services import partner_user_emails, tenant_admin_emails
from billing.contacts import billing_contact_recipients, partner_billing_contact_recipients
from billing.documents import invoice_language, invoice_pdf_bytes
from billing.einvoice.delivery import einvoice_delivery_add
from billing.invoice_status import invoice_status_move
from billing.links import invoice_link_create, invoice_link_url, invoice_links_revoke
from billing.models import (
    BillingContact,
    Invoice,
    InvoiceKind,
    InvoiceLink,
    InvoiceMessage,
    InvoiceState,
)
from billing.references import reference_display
from severa import clock

logger = logging.getLogger(__name__)

MAIL_TEMPLATE = "invoice_link"
# The resume sweep leaves the just-issued to their own task, and stops trying after a while.
RESUME_AFTER = timedelta(minutes=10)
RESUME_WITHIN = timedelta(days=3)


def invoice_delivery_queue(*, invoice: Invoice) -> None:
    """Deliver the invoice after the surrounding transaction commits (at once when there
    is none: `invoice_issued` calls this after the issuing commit)."""
    # Imported here: the task module imports this one (its tasks deliver invoices).
    from billing.delivery_tasks import invoice_deliver_task, partner_invoice_deliver_task

    tenant_id, partner_id, invoice_id = invoice.tenant_id, invoice.partner_id, invoice.pk
    if partner_id is not None:
        transaction.on_commit(
            lambda: partner_invoice_deliver_task.delay(partner_id=partner_id, invoice_id=invoice_id)
        )
        return
    transaction.on_commit(
        lambda: invoice_deliver_task.delay(tenant_id=tenant_id, invoice_id=invoice_id)
    )


def invoice_dedupe_key(*, invoice: Invoice, email: str) -> str:
    return f"invoice:{invoice.pk}:link:{email.strip().lower()}"


def invoice_recipients(*, invoice: Invoice) -> tuple[list[tuple[BillingContact | None, str]], bool]:
    """(contact, address) pairs: the billing contacts, or the tenant's admins (no contact)
    when it has none; the flag says the admins stand in. A partner's invoice: the partner's
    contacts, or its active users."""
    if invoice.partner_id is not None:
        return partner_invoice_recipients(invoice=invoice)
    contacts: list[tuple[BillingContact | None, str]] = list(
        billing_contact_recipients(tenant=invoice.tenant)
    )
    if contacts:
        return contacts, False
    admins: dict[str, str] = {}
    for address in tenant_admin_emails(tenant=invoice.tenant):
        if address and address.strip():
            admins.setdefault(address.strip().lower(), address.strip())
    if admins:
        logger.warning(
            "Tenant %s has no billing contacts: invoice %s goes to its admins",
            invoice.tenant_id,
            invoice.display_number,
        )
    return [(None, address) for address in admins.values()], True


def partner_invoice_recipients(
    *,
    invoice: Invoice,
) -> tuple[list[tuple[BillingContact | None, str]], bool]:
    contacts: list[tuple[BillingContact | None, str]] = list(
        partner_billing_contact_recipients(partner=invoice.partner)
    )
    if contacts:
        return contacts, False
    users: dict[str, str] = {}
    for address in partner_user_emails(partner=invoice.partner):
        if address and address.strip():
            users.setdefault(address.strip().lower(), address.strip())
    if users:
        logger.warning(
            "Partner %s has no billing contacts: invoice %s goes to its users",
            invoice.partner_id,
            invoice.display_number,
        )
    return [(None, address) for address in users.values()], True


def invoice_deliver(*, invoice: Invoice) -> list[OutboxMessage]:
    """Render (once) the invoice's PDF, then write a link and its e-mail (once each) for every
    recipient; returns the messages this call wrote (none when all were written before)."""
    invoice_pdf_bytes(invoice=invoice)
    with transaction.atomic():
        # The invoice's row lock makes concurrent deliveries of one invoice take turns;
        # of=("self",) leaves the tenant row alone, defer("pdf") the stored document.
        locked = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("tenant", "partner", "credited_invoice")
            .defer("pdf", "credited_invoice__pdf")
            .get(pk=invoice.pk)
        )
        # The e-invoice, when the buyer takes one (queued once, relayed after the commit);
        # it goes out whether or not anybody gets the e-mail.
        einvoice_delivery_add(locked)
        recipients, to_admins = invoice_recipients(invoice=locked)
        if not recipients:
            logger.error(
                "Invoice %s not delivered: %s has no billing contacts and no active admins",
                locked.display_number,
                locked.recipient,
            )
            return []
        linked = set(InvoiceLink.objects.filter(invoice=locked).values_list("email", flat=True))
        language = invoice_language(invoice=locked)
        seller = locked.seller_snapshot if isinstance(locked.seller_snapshot, dict) else {}
        written = []
        for contact, address in recipients:
            if address.lower() in linked:
                continue
            link, token = invoice_link_create(invoice=locked, contact=contact, email=address)
            subject, body = mail_render(
                template=MAIL_TEMPLATE,
                context={
                    "invoice": locked,
                    "is_credit_note": locked.kind == InvoiceKind.CREDIT_NOTE,
                    # The recipient's name: the tenant's, or the paying partner's.
                    "tenant": locked.recipient,
                    "seller_name": seller.get("name", ""),
                    "reference": reference_display(
                        locked.reference, country=str(seller.get("country") or "")
                    ),
                    "link_url": invoice_link_url(token),
                    "expires_at": link.expires_at,
                    "to_admins": to_admins,
                },
                language=language,
            )
            message = outbox_message_add(
                tenant=locked.tenant,
                partner=locked.partner_id,
                kind=MAIL_TEMPLATE,
                to=address,
                subject=subject,
                body=body,
                dedupe_key=invoice_dedupe_key(invoice=locked, email=address),
            )
            if message is not None:
                InvoiceMessage.objects.create(
                    message=message,
                    tenant=locked.tenant,
                    partner_id=locked.partner_id,
                    invoice=locked,
                    link=link,
                )
                written.append(message)
        outbox_relay_soon(messages=written)
    return written


def invoice_sent_mark(*, invoice_id: int) -> bool:
    """Issued → sent, once none of the invoice's link messages is pending and at least one
    went out (a message that failed for good does not hold the others back; operators see
    it). Returns whether the status moved. Call inside the invoice's tenant scope."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).defer("pdf").get(pk=invoice_id)
        if invoice.status != InvoiceState.ISSUED:
            return False
        statuses = set(
            OutboxMessage.objects.filter(
                invoice_message__invoice=invoice, kind=MAIL_TEMPLATE
            ).values_list("status", flat=True)
        )
        if OutboxStatus.PENDING in statuses or OutboxStatus.SENT not in statuses:
            return False
        return invoice_status_move(invoice=invoice, to=InvoiceState.SENT, actor=None)


def invoice_message_settled(*, message: OutboxMessage) -> None:
    """The relay's callback (registered in billing/apps.py): a message of an invoice went out
    or failed for good, which may be the last one its invoice waited for."""
    invoice_id = (
        InvoiceMessage.objects.filter(message=message).values_list("invoice_id", flat=True).first()
    )
    if invoice_id is not None:
        invoice_sent_mark(invoice_id=invoice_id)


def invoice_deliveries_resume() -> int:
    """Queue again the delivery of recently issued invoices that have no link yet (their
    task was lost, or the tenant had nobody to send to); returns how many."""
    # Imported here: the task module imports this one (its tasks deliver invoices).
    from billing.delivery_tasks import invoice_deliver_task, partner_invoice_deliver_task

    now = clock.now()
    with scopes_disabled():
        stuck = list(
            Invoice.objects.filter(
                status=InvoiceState.ISSUED,
                issued_at__lte=now - RESUME_AFTER,
                issued_at__gte=now - RESUME_WITHIN,
            )
            .filter(~Q(pk__in=InvoiceLink.objects.values("invoice_id")))
            .values_list("pk", "tenant_id", "partner_id")
        )
    for invoice_id, tenant_id, partner_id in stuck:
        if partner_id is not None:
            partner_invoice_deliver_task.delay(partner_id=partner_id, invoice_id=invoice_id)
        else:
            invoice_deliver_task.delay(tenant_id=tenant_id, invoice_id=invoice_id)
    return len(stuck)


def invoice_links_contact_removed(*, sender, contact: BillingContact, **kwargs) -> None:
    """`billing_contact_removed` receiver: the contact's links stop working and its unsent
    messages are cancelled, in the removal's transaction (and its tenant scope)."""
    links = InvoiceLink.objects.filter(
        tenant_id=contact.tenant_id, partner_id=contact.partner_id, contact=contact
    )
    messages = OutboxMessage.objects.filter(invoice_message__link__in=links)
    invoice_ids = set(
        messages.filter(status=OutboxStatus.PENDING).values_list(
            "invoice_message__invoice_id", flat=True
        )
    )
    outbox_messages_cancel(messages=messages)
    revoked = invoice_links_revoke(contact=contact)
    # A cancelled message may have been the last one an invoice waited for.
    for invoice_id in sorted(i for i in invoice_ids if i is not None):
        invoice_sent_mark(invoice_id=invoice_id)
    if revoked:
        logger.info("Revoked %s invoice links of billing contact %s", revoked, contact.pk)
