"""An order confirmation's one status move: confirmed → invoiced, when the invoicing run has
put every charged line on an invoice (or found nothing left to invoice). The move is one
conditional UPDATE (``invoiced`` false → true), so an order is marked once however many
workers try, and each order that moved gets its audit event in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from accounts.audit import ActorLike, AuditAction, audit_event_build, audit_events_insert
from severa import clock
from subscriptions.models import OrderConfirmation


def orders_mark_invoiced(*, order_ids: Iterable[int], actor: ActorLike = None) -> int:
    """Mark the orders of `order_ids` that are not invoiced yet as invoiced and audit each;
    an order invoiced already is left as it is and audited no more. Returns how many moved."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    table = OrderConfirmation._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET "invoiced" = true '  # noqa: S608 - the table name is ours
                'WHERE "id" = ANY(%s) AND NOT "invoiced" '
                'RETURNING "id", "tenant_id", "sequence", "invoice_partner_id"',
                [ids],
            )
            moved = cursor.fetchall()
        now, subject_type = clock.now(), OrderConfirmation._meta.label_lower
        events = []
        for pk, tenant_id, sequence, partner_id in moved:
            number = f"{tenant_id}-{sequence:04d}"
            events.append(
                audit_event_build(
                    actor=actor,
                    action=AuditAction.ORDER_INVOICED,
                    tenant=tenant_id,
                    partner=partner_id,
                    subject_ref=(subject_type, pk, number),
                    details={"order": number},
                    at=now,
                )
            )
        audit_events_insert(events=events)
    return len(moved)
