"""An invoice's status moves (DESIGN §3.4): issued → sent → paid; overdue after the due date;
credited. Every move goes through one function per target status here, and each is one
conditional update: ``UPDATE … SET status = <to> WHERE id = … AND status IN (<allowed>)``.

The condition is checked by the database on the row as it is when the update runs, not as
some earlier read saw it: under PostgreSQL's READ COMMITTED an update that waits on a row
another transaction is changing re-checks its WHERE against the committed row. So a payment
that commits while the overdue run is marking either lands first (the overdue update then
skips the paid row) or after (paid from overdue is allowed): PAID → OVERDUE cannot happen.
`Invoice.save` does not accept a status; these functions are the only writers.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet

from billing.models import Invoice, InvoiceKind, InvoiceState

# The statuses each target status may be reached from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    InvoiceState.SENT: frozenset({InvoiceState.ISSUED}),
    InvoiceState.OVERDUE: frozenset({InvoiceState.ISSUED, InvoiceState.SENT}),
    InvoiceState.PAID: frozenset({InvoiceState.ISSUED, InvoiceState.SENT, InvoiceState.OVERDUE}),
    InvoiceState.CREDITED: frozenset(
        {InvoiceState.ISSUED, InvoiceState.SENT, InvoiceState.OVERDUE, InvoiceState.PAID}
    ),
}


def _move(invoices: QuerySet[Invoice], to: str, **fields: Any) -> int:
    """Move every invoice of `invoices` whose status allows it to `to`, in one UPDATE;
    returns how many moved."""
    return invoices.filter(status__in=ALLOWED_FROM[to]).update(status=to, **fields)


def _move_one(invoice: Invoice, to: str, **fields: Any) -> bool:
    """Move `invoice` to `to` if its stored status allows it; the instance follows."""
    moved = _move(Invoice.objects.filter(pk=invoice.pk), to, **fields) == 1
    if moved:
        invoice.status = to
        for name, value in fields.items():
            setattr(invoice, name, value)
    return moved


def invoice_mark_sent(invoice: Invoice, *, at: datetime.datetime) -> bool:
    """Issued → sent (its e-mails went out)."""
    return _move_one(invoice, InvoiceState.SENT, sent_at=at)


def invoice_mark_paid(invoice: Invoice, *, at: datetime.datetime) -> bool:
    """Issued, sent or overdue → paid (payments cover what is outstanding)."""
    return _move_one(invoice, InvoiceState.PAID, paid_at=at)


def invoice_mark_credited(invoice: Invoice) -> bool:
    """Any status but credited → credited (credit notes cover the whole total)."""
    return _move_one(invoice, InvoiceState.CREDITED)


def invoices_mark_overdue(on: datetime.date) -> int:
    """Issued or sent invoices (not credit notes) due before `on` → overdue: one set-based
    UPDATE that loads no invoice; returns how many moved."""
    return _move(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, due_date__lt=on), to=InvoiceState.OVERDUE
    )
