"""E-invoice delivery: the invoice's Finvoice (to an eInvoice address) or Peppol BIS document
(to a Peppol participant) queued once and relayed with retries, like the e-mail outbox
(accounts/outbox.py).

- ``einvoice_delivery_add`` runs in the invoice delivery task (billing/delivery.py), under
  the invoice's row lock: when ``einvoice_format`` names a channel, the document is generated
  once and stored on an ``EInvoiceDelivery``, unique per invoice and channel, so a second
  run queues nothing; the relay is enqueued after the commit.
- ``einvoice_relay`` (Celery beat every minute, and after queueing) sends each due delivery
  under its row lock (``SELECT … FOR UPDATE SKIP LOCKED``) through the configured transport
  (billing/einvoice/transports.py) and marks it sent in the same transaction. A temporary
  failure is retried after 1 min, 5 min, 30 min and 2 h (``accounts.outbox.retry_at``), then
  the delivery is failed; a permanent one fails at once. The transports make a resend after
  a crash harmless (an identical dropped file, the same Idempotency-Key).
- Operators see failed deliveries on /operator/einvoices/; Retry (``einvoice_delivery_retry``)
  sends the same stored document again, with the same invoice number.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.audit import AuditAction, audit_record
from accounts.models import User
from accounts.outbox import ERROR_MAX_LENGTH, RELAY_BATCH_SIZE, retry_at
from billing.einvoice.finvoice import invoice_finvoice_with_envelope
from billing.einvoice.reading import FORMAT_FINVOICE, einvoice_format
from billing.einvoice.transports import Transport, TransportError, transport_get
from billing.einvoice.ubl import invoice_ubl
from billing.models import EInvoiceDelivery, EInvoiceDeliveryStatus, Invoice
from billing.scoping import recipient_scope
from severa import clock
from severa.errors import DomainError

logger = logging.getLogger(__name__)


def einvoice_document(invoice: Invoice, channel: str) -> bytes:
    """Finvoice with its SOAP routing frame, or the Peppol BIS UBL document."""
    if channel == FORMAT_FINVOICE:
        return invoice_finvoice_with_envelope(invoice)
    return invoice_ubl(invoice)


def einvoice_delivery_add(invoice: Invoice) -> EInvoiceDelivery | None:
    """Queue the invoice's e-invoice in the caller's transaction (once per channel); None
    when the buyer takes no e-invoice or it was queued before. A document that cannot be
    generated is recorded as failed (operators see it) rather than failing the e-mails."""
    channel = einvoice_format(invoice)
    if channel is None:
        return None
    if EInvoiceDelivery.objects.filter(invoice=invoice, channel=channel).exists():
        return None
    now = clock.now()
    status, document, error = EInvoiceDeliveryStatus.PENDING, b"", ""
    try:
        document = einvoice_document(invoice, channel)
    except Exception as exception:
        logger.exception("The %s of invoice %s cannot be generated", channel, invoice.pk)
        status, error = EInvoiceDeliveryStatus.FAILED, _describe(exception)
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's work intact
            delivery = EInvoiceDelivery.objects.create(
                tenant_id=invoice.tenant_id,
                partner_id=invoice.partner_id,
                invoice=invoice,
                channel=channel,
                document=document,
                status=status,
                last_error=error,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        if EInvoiceDelivery.objects.filter(invoice=invoice, channel=channel).exists():
            return None
        raise
    if status == EInvoiceDeliveryStatus.PENDING:
        einvoice_relay_soon()
    return delivery


def einvoice_relay_soon() -> None:
    """Run the relay right after the current transaction commits."""
    # Imported here: the task module imports this one (its task runs the relay).
    from billing.delivery_tasks import einvoice_relay_task

    transaction.on_commit(lambda: einvoice_relay_task.delay())


def einvoice_relay(
    *, limit: int = RELAY_BATCH_SIZE, transport: Transport | None = None
) -> dict[str, int]:
    """Send the due pending deliveries of every tenant, oldest first; the outcomes counted."""
    now = clock.now()
    with scopes_disabled():
        due = list(
            EInvoiceDelivery.objects.filter(
                status=EInvoiceDeliveryStatus.PENDING, next_attempt_at__lte=now
            )
            .order_by("next_attempt_at", "id")
            .values_list("pk", "tenant_id", "partner_id")[:limit]
        )
    if not due:
        return {}
    transport = transport or transport_get()
    outcomes: Counter[str] = Counter()
    for delivery_id, tenant_id, partner_id in due:
        with recipient_scope(tenant_id=tenant_id, partner_id=partner_id):
            outcomes[einvoice_delivery_send(delivery_id=delivery_id, transport=transport)] += 1
    return dict(outcomes)


def einvoice_delivery_send(*, delivery_id: int, transport: Transport | None = None) -> str:
    """Send one due delivery; "sent", "retry", "failed" or "skipped" (not due, not pending,
    or being sent by another relay right now). Call inside its tenant's scope."""
    with transaction.atomic():
        delivery = (
            EInvoiceDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invoice")
            .defer("invoice__pdf")
            .filter(pk=delivery_id)
            .first()
        )
        now = clock.now()
        if delivery is None or delivery.status != EInvoiceDeliveryStatus.PENDING:
            return "skipped"
        if delivery.next_attempt_at > now:
            return "skipped"
        delivery.attempts += 1
        try:
            reference = (transport or transport_get()).send(delivery)
        except TransportError as error:
            next_attempt_at = retry_at(attempts=delivery.attempts, now=now)
            delivery.last_error = _describe(error)
            if not error.temporary or next_attempt_at is None:
                delivery.status = EInvoiceDeliveryStatus.FAILED
                outcome = "failed"
                logger.error(
                    "E-invoice %s (%s of invoice %s) failed after %s attempts: %s",
                    delivery.pk,
                    delivery.channel,
                    delivery.invoice.display_number,
                    delivery.attempts,
                    delivery.last_error,
                )
            else:
                delivery.next_attempt_at = next_attempt_at
                outcome = "retry"
                logger.info(
                    "E-invoice %s: attempt %s failed, next at %s: %s",
                    delivery.pk,
                    delivery.attempts,
                    next_attempt_at.isoformat(),
                    delivery.last_error,
                )
        else:
            delivery.status = EInvoiceDeliveryStatus.SENT
            delivery.sent_at = now
            delivery.remote_reference = reference
            outcome = "sent"
        delivery.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "sent_at",
                "remote_reference",
            ]
        )
    return outcome


class EInvoiceRetryError(DomainError):
    """Refused: only a failed delivery can be sent again."""

    api_status = 409
    api_code = "not_failed"
    messages = {"not_failed": _("Only a failed e-invoice can be sent again.")}


def einvoice_delivery_retry(*, delivery: EInvoiceDelivery, actor: User | None) -> EInvoiceDelivery:
    """Put a failed delivery back in the queue with a fresh round of attempts (an operator's
    Retry): the same stored document, so the same invoice number. A document that could not
    be generated is generated now."""
    with transaction.atomic():
        delivery = (
            EInvoiceDelivery.objects.select_for_update(of=("self",))
            .select_related("invoice", "tenant")
            .defer("invoice__pdf")
            .get(pk=delivery.pk)
        )
        if delivery.status != EInvoiceDeliveryStatus.FAILED:
            raise EInvoiceRetryError("not_failed", delivery=delivery.pk, status=delivery.status)
        if not bytes(delivery.document):
            delivery.document = einvoice_document(delivery.invoice, delivery.channel)
        previous_attempts = delivery.attempts
        delivery.status = EInvoiceDeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = clock.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "document"])
        audit_record(
            actor=actor,
            action=AuditAction.EINVOICE_DELIVERY_RETRIED,
            tenant=delivery.tenant_id,
            partner=delivery.partner_id,
            subject=delivery,
            details={
                "delivery": delivery.pk,
                "invoice": delivery.invoice.display_number,
                "channel": delivery.channel,
                "previous_attempts": previous_attempts,
                "last_error": delivery.last_error,
            },
        )
        einvoice_relay_soon()
    return delivery


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
