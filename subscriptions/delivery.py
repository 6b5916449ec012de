"""Delivery of order confirmations (DESIGN §3.6, §3.7): render the PDF once, store it, and
e-mail it to every billing contact through the outbox (accounts/outbox.py).

`order_confirmation_queue` is called by the order service inside the transaction that
creates the order; the Celery task `subscriptions.order_confirmation_send` runs
`order_confirmation_deliver` after that transaction commits.

Idempotent, because a worker may run the task twice (acks_late, a redelivery after a crash):

- the PDF is rendered only while `order.pdf` is empty, outside any lock (a render takes a
  third of a second), and stored under the order's row lock only if it is still empty: the
  first stored PDF is the document, and every e-mail and download serves that one;
- under the order's row lock (`select_for_update`), one outbox message per recipient, the
  PDF attached, is written and `emailed_at` set in the same transaction, so a duplicate task
  waits for the lock and then sees `emailed_at` and writes nothing (and each message's
  `dedupe_key` would refuse a second one). The outbox relay sends them after the commit,
  each with its own retries: an SMTP error no longer holds the order back, and a refused
  address fails alone (operators see it on /operator/outbox/).

Recipients: every billing contact of the tenant. A tenant with no billing contact yet gets
the confirmation at its administrators' addresses instead (logged as a warning), so nobody
misses an order; with neither, nothing is written, an error is logged and `emailed_at` stays
empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.mail import mail_enqueue
from accounts.models import Tenant
from accounts.services import tenant_admin_emails
from severa import clock
from severa.pdf import pdf_stored_once
from subscriptions.documents import order_confirmation_filename, order_confirmation_pdf
from subscriptions.models import OrderConfirmation

logger = logging.getLogger(__name__)

MAIL_TEMPLATE = "order_confirmation"


def order_confirmation_queue(*, order: OrderConfirmation) -> None:
    """Deliver the order after the surrounding transaction commits (call inside it)."""
    # Imported here: the task module imports this one (its task delivers the order).
    from subscriptions.tasks import order_confirmation_send

    tenant_id, order_id = order.tenant_id, order.pk
    transaction.on_commit(
        lambda: order_confirmation_send.delay(tenant_id=tenant_id, order_id=order_id)
    )


# The tenant's billing contacts' addresses: billing owns the contacts and registers the
# function that reads them (billing/apps.py).
_billing_contacts: list[Callable[[Tenant], list[str]]] = []


def billing_contacts_register(*, addresses: Callable[..., list[str]]) -> None:
    _billing_contacts[:] = [addresses]


def billing_contact_addresses(*, tenant: Tenant) -> list[str]:
    """The tenant's billing contacts' addresses. Without a registered reader, refused: an
    order confirmation must never go to the admins only because the contacts went unread."""
    if not _billing_contacts:
        raise RuntimeError("No reader of billing contacts is registered.")
    return _billing_contacts[0](tenant=tenant)


def order_confirmation_recipients(*, order: OrderConfirmation) -> tuple[list[str], bool]:
    """The billing contacts, or the tenant's admins when it has none (see the module doc);
    the flag says the admins stand in."""
    contacts = _unique(billing_contact_addresses(tenant=order.tenant))
    if contacts:
        return contacts, False
    admins = _unique(tenant_admin_emails(tenant=order.tenant))
    if admins:
        logger.warning(
            "Tenant %s has no billing contacts: order confirmation %s goes to its admins",
            order.tenant_id,
            order.number,
        )
    return admins, True


def _unique(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        if address:
            seen.setdefault(address.strip().lower(), address.strip())
    return list(seen.values())


def order_confirmation_pdf_bytes(*, order: OrderConfirmation) -> bytes:
    """The stored PDF; rendered and stored first when the worker has not done it yet (e.g.
    a download requested right after confirming)."""
    # Looked up at call time (not bound at import) so tests can count renders.
    return pdf_stored_once(order, lambda order: order_confirmation_pdf(order=order))


def order_confirmation_deliver(*, order: OrderConfirmation) -> list[str]:
    """Render (once) the order confirmation and write its e-mails (once) to the outbox;
    returns the addresses this call wrote to (empty when they were written already)."""
    if order.emailed_at is not None:
        return []
    pdf = order_confirmation_pdf_bytes(order=order)
    with transaction.atomic():
        locked = (
            # of=("self",): lock the order row only, not the joined tenant row.
            OrderConfirmation.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .defer("pdf")
            .get(pk=order.pk)
        )
        if locked.emailed_at is not None:
            return []
        recipients, to_admins = order_confirmation_recipients(order=locked)
        if not recipients:
            logger.error(
                "Order confirmation %s not e-mailed: tenant %s has no billing contacts "
                "and no active admins",
                locked.number,
                locked.tenant_id,
            )
            return []
        sent = _write(order=locked, pdf=pdf, recipients=recipients, to_admins=to_admins)
        locked.emailed_at = clock.now()
        locked.save(update_fields=["emailed_at"])
    order.emailed_at = locked.emailed_at
    return sent


def order_invoiced_from(*, order: OrderConfirmation) -> date | None:
    """The day the order's invoicing waits for when its lines' period starts after the order
    was made (a first period in the future), else None: a line is invoiced by the first run
    on or after its period's start (`billing.invoicing.uninvoiced_orders`)."""
    start = min((line.period_start for line in order.lines.all()), default=None)
    if start is None or start <= order.made_on:
        return None
    return start


def _write(
    *, order: OrderConfirmation, pdf: bytes, recipients: list[str], to_admins: bool
) -> list[str]:
    """One message per recipient (contacts do not see each other's addresses), the PDF
    attached, written in the caller's transaction; the relay sends them after the commit."""
    tenant = order.tenant
    written = mail_enqueue(
        to=recipients,
        template=MAIL_TEMPLATE,
        context={
            "order": order,
            "tenant": tenant,
            "to_admins": to_admins,
            "invoiced_from": order_invoiced_from(order=order),
            "order_url": settings.SITE_URL
            + reverse("tenant_order_detail", args=[tenant.pk, order.pk]),
        },
        language=tenant.language or settings.LANGUAGE_CODE,
        tenant=tenant,
        dedupe_key=f"{MAIL_TEMPLATE}:{order.pk}",
        attachment=(order_confirmation_filename(order=order), pdf, "application/pdf"),
        each=True,
    )
    return [message.to for message in written]
