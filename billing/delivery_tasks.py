"""Celery tasks of invoice delivery (billing/delivery.py; its e-mail goes through the outbox,
relayed by `accounts.outbox_relay`). Imported by `BillingConfig.ready`, so web processes and workers
register them. Each loads by id and makes one call; all are idempotent (acks late: a
worker killed mid-task gets the message redelivered, and a second run writes and sends
nothing twice).
"""

from celery import shared_task
from django.db import OperationalError

from accounts.tenancy import TenantTask
from billing.delivery import invoice_deliver, invoice_deliveries_resume
from billing.einvoice.delivery import einvoice_relay
from billing.models import Invoice
from billing.scoping import partner_scope
from subscriptions.tasks import order_confirmation_send


@shared_task(
    base=TenantTask,
    name="billing.invoice_deliver",
    acks_late=True,
    # A lost database connection or an I/O error is retried with backoff; anything else fails
    # fast. E-mail is not sent here: the outbox relay does that, with its own retries.
    autoretry_for=(OSError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def invoice_deliver_task(*, tenant_id: int, invoice_id: int) -> int:
    """Render and store the invoice's PDF, then write a link and its e-mail for every
    billing contact; returns how many messages this run wrote."""
    invoice = Invoice.objects.select_related("tenant").defer("pdf").get(pk=invoice_id)
    return len(invoice_deliver(invoice=invoice))


@shared_task(
    name="billing.partner_invoice_deliver",
    acks_late=True,
    autoretry_for=(OSError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def partner_invoice_deliver_task(*, partner_id: int, invoice_id: int) -> int:
    """`invoice_deliver_task` for a partner's consolidated invoice, in the partner's scope."""
    with partner_scope(partner_id):
        invoice = Invoice.objects.select_related("partner").defer("pdf").get(pk=invoice_id)
        return len(invoice_deliver(invoice=invoice))


@shared_task(name="billing.invoice_deliveries_resume", acks_late=True)
def invoice_deliveries_resume_task() -> int:
    """Queue again the delivery of recent invoices that have no link yet (beat)."""
    return invoice_deliveries_resume()


@shared_task(name="billing.einvoice_relay", acks_late=True)
def einvoice_relay_task() -> dict[str, int]:
    """Send the due pending e-invoices (beat: every minute, and after new ones are queued)."""
    return einvoice_relay()


@shared_task(name="billing.order_confirmations_send", acks_late=True)
def order_confirmations_send(*, orders: list[list[int]]) -> int:
    """Queue the delivery of a batch of renewal orders ([tenant id, order id] pairs), one
    task per order so that each renders, sends and retries on its own; delivering an order
    twice renders and sends it once (`subscriptions.delivery`)."""
    for tenant_id, order_id in orders:
        order_confirmation_send.delay(tenant_id=tenant_id, order_id=order_id)
    return len(orders)
