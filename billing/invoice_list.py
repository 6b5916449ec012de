"""The rows of an invoice list (a tenant's or a partner's Billing page): plain values, formatted
for the active language once, without building an Invoice per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from accounts.locale_format import date_format, money_format
from billing.models import Invoice, InvoiceKind, InvoiceStatus, invoice_display_number

ROW_FIELDS = (
    "pk",
    "kind",
    "series",
    "number",
    "invoice_date",
    "due_date",
    "currency",
    "total",
    "status",
)


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    pk: int
    number: str
    is_credit_note: bool
    invoice_date: str
    due_date: str
    total: str
    status: str
    status_code: str
    detail_url: str
    pdf_url: str


def invoice_rows_query(invoices: QuerySet[Invoice]) -> QuerySet:
    """`invoices` newest first, as the tuples `invoice_rows` reads (page this)."""
    return invoices.order_by("-invoice_date", "-issued_at", "-id").values_list(*ROW_FIELDS)


def invoice_rows(
    values: list[tuple], *, detail_url: Callable[[int], str], pdf_url: Callable[[int], str]
) -> list[InvoiceRow]:
    """One row per tuple of `invoice_rows_query`, its dates and total formatted."""
    statuses = {code: str(label) for code, label in InvoiceStatus.choices}
    rows = []
    for pk, kind, series, number, invoice_date, due_date, currency, total, status in values:
        is_credit_note = kind == InvoiceKind.CREDIT_NOTE
        rows.append(
            InvoiceRow(
                pk=pk,
                number=invoice_display_number(series, number),
                is_credit_note=is_credit_note,
                invoice_date=_date(invoice_date),
                due_date="" if is_credit_note else _date(due_date),
                total=money_format(Decimal(total), currency),
                status=statuses.get(status, status),
                status_code=status,
                detail_url=detail_url(pk),
                pdf_url=pdf_url(pk),
            )
        )
    return rows


def _date(value: date | None) -> str:
    return date_format(value) if value else ""
