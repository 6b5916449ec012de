"""An invoice's status moves (DESIGN §3.4): issued → sent → paid; overdue after the due date;
credited. Every move goes through ``invoice_status_move`` here, one
conditional update: ``UPDATE … SET status = <to> WHERE id = … AND status IN (<allowed>)``.

The condition is checked by the database on the row as it is when the update runs, not as
some earlier read saw it: under PostgreSQL's READ COMMITTED an update that waits on a row
another transaction is changing re-checks its WHERE against the committed row. So a payment
that commits while the overdue run is marking either lands first (the overdue update then
skips the paid row) or after (paid from overdue is allowed): PAID → OVERDUE cannot happen.
`Invoice.save` does not accept a status; ``invoice_status_move`` (one invoice) and
``invoices_mark_overdue`` (the run's set-based marking) are the only writers, and each move
writes its audit event in the same transaction.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction

from accounts.audit import (
    ActorLike,
    AuditAction,
    audit_event_build,
    audit_events_insert,
    audit_record,
)
from billing.models import Invoice, InvoiceKind, InvoiceState, invoice_display_number
from severa import clock

# The statuses each target status may be reached from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    InvoiceState.SENT: frozenset({InvoiceState.ISSUED}),
    InvoiceState.OVERDUE: frozenset({InvoiceState.ISSUED, InvoiceState.SENT}),
    InvoiceState.PAID: frozenset({InvoiceState.ISSUED, InvoiceState.SENT, InvoiceState.OVERDUE}),
    InvoiceState.CREDITED: frozenset(
        {InvoiceState.ISSUED, InvoiceState.SENT, InvoiceState.OVERDUE, InvoiceState.PAID}
    ),
}
# The audit action of each move, by its target status.
MOVE_ACTIONS: dict[str, AuditAction] = {
    InvoiceState.SENT: AuditAction.INVOICE_SENT,
    InvoiceState.OVERDUE: AuditAction.INVOICE_OVERDUE,
    InvoiceState.PAID: AuditAction.INVOICE_PAID,
    InvoiceState.CREDITED: AuditAction.INVOICE_CREDITED,
}
# The time each move stamps on the invoice.
MOVE_STAMPS: dict[str, str] = {InvoiceState.SENT: "sent_at", InvoiceState.PAID: "paid_at"}


def invoice_status_move(
    *, invoice: Invoice, to: str, actor: ActorLike, at: datetime.datetime | None = None
) -> bool:
    """Move `invoice` to `to` if its stored status allows it, and audit the move; returns
    whether it moved (a refused move changes and audits nothing). The instance follows."""
    fields: dict[str, Any] = {}
    if to in MOVE_STAMPS:
        fields[MOVE_STAMPS[to]] = at or clock.now()
    with transaction.atomic():
        moved = (
            Invoice.objects.filter(pk=invoice.pk, status__in=ALLOWED_FROM[to]).update(
                status=to, **fields
            )
            == 1
        )
        if not moved:
            return False
        previous = invoice.status
        invoice.status = to
        for name, value in fields.items():
            setattr(invoice, name, value)
        audit_record(
            actor=actor,
            action=MOVE_ACTIONS[to],
            tenant=invoice.tenant_id,
            partner=invoice.partner_id,
            subject=invoice,
            details={"invoice": invoice.display_number, "from": previous},
        )
    return True


def invoices_mark_overdue(*, on: datetime.date) -> int:
    """Issued or sent invoices (not credit notes) due before `on` → overdue: one set-based
    UPDATE that loads no invoice (it returns the moved rows' keys), then one INSERT of their
    audit events; returns how many moved."""
    allowed = sorted(ALLOWED_FROM[InvoiceState.OVERDUE])
    table = Invoice._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET "status" = %s '  # noqa: S608 - the table name is ours
                'WHERE "kind" = %s AND "due_date" < %s AND "status" = ANY(%s) '
                'RETURNING "id", "tenant_id", "partner_id", "series", "number"',
                [InvoiceState.OVERDUE, InvoiceKind.INVOICE, on, allowed],
            )
            moved = cursor.fetchall()
        now, subject_type = clock.now(), Invoice._meta.label_lower
        audit_events_insert(
            events=[
                audit_event_build(
                    actor=None,
                    action=AuditAction.INVOICE_OVERDUE,
                    tenant=tenant_id,
                    partner=partner_id,
                    subject_ref=(subject_type, pk, invoice_display_number(series, number)),
                    details={"invoice": invoice_display_number(series, number)},
                    at=now,
                )
                for pk, tenant_id, partner_id, series, number in moved
            ]
        )
    return len(moved)
