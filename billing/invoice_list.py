"""The rows of an invoice list (a tenant's or a partner's Billing page): plain values, formatted
for the active language once, without building an Invoice per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language

from accounts.locale_format import date_format, money_format
from billing.models import Invoice, InvoiceKind, InvoiceState, invoice_display_number
from severa import clock
from severa.paging import row_url

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


def invoice_rows_query(*, invoices: QuerySet[Invoice]) -> QuerySet:
    """`invoices` newest first, as the tuples `invoice_rows` reads (page this)."""
    return invoices.order_by("-invoice_date", "-issued_at", "-id").values_list(*ROW_FIELDS)


def invoice_rows(
    *, values: list[tuple], detail_url: Callable[[int], str], pdf_url: Callable[[int], str]
) -> list[InvoiceRow]:
    """One row per tuple of `invoice_rows_query`, its dates and total formatted."""
    statuses = {code: str(label) for code, label in InvoiceState.choices}
    language = get_language()
    rows = []
    for pk, kind, series, number, invoice_date, due_date, currency, total, status in values:
        is_credit_note = kind == InvoiceKind.CREDIT_NOTE
        rows.append(
            InvoiceRow(
                pk=pk,
                number=invoice_display_number(series, number),
                is_credit_note=is_credit_note,
                invoice_date=_date(invoice_date, language),
                due_date="" if is_credit_note else _date(due_date, language),
                total=money_format(Decimal(total), currency, language),
                status=statuses.get(status, status),
                status_code=status,
                detail_url=detail_url(pk),
                pdf_url=pdf_url(pk),
            )
        )
    return rows


def _date(value: date | None, language: str | None = None) -> str:
    return date_format(value, language) if value else ""


# Invoices the buyer still has to pay (credit notes are never open).
OPEN_STATUSES = (InvoiceState.ISSUED, InvoiceState.SENT, InvoiceState.OVERDUE)


@dataclass(frozen=True)
class OpenInvoices:
    rows: list[InvoiceRow]
    overdue: int
    # Open amounts per currency, e.g. {"EUR": "€1,255.00"}, in currency order.
    totals: dict[str, str]


def open_invoices(
    *,
    invoices: QuerySet[Invoice],
    today: date,
    detail_url: Callable[[int], str],
    pdf_url: Callable[[int], str],
) -> OpenInvoices:
    """The unpaid invoices of `invoices`, oldest due first; one is overdue when it is marked so
    or its due date has passed (the overdue run marks it the next night)."""
    values = list(
        invoices.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES)
        .order_by("due_date", "id")
        .values_list(*ROW_FIELDS)
    )
    overdue_label = str(InvoiceState.OVERDUE.label)
    rows = []
    overdue = 0
    sums: dict[str, Decimal] = {}
    for row, value in zip(
        invoice_rows(values=values, detail_url=detail_url, pdf_url=pdf_url), values, strict=True
    ):
        due_date, currency, total = value[5], value[6], value[7]
        sums[currency] = sums.get(currency, Decimal(0)) + total
        if row.status_code == InvoiceState.OVERDUE or due_date < today:
            overdue += 1
            row = replace(row, status=overdue_label, status_code=InvoiceState.OVERDUE)
        rows.append(row)
    totals = {currency: money_format(sums[currency], currency) for currency in sorted(sums)}
    return OpenInvoices(rows=rows, overdue=overdue, totals=totals)


def tenant_open_invoices(request: HttpRequest) -> OpenInvoices:
    """The open invoices on the company overview (request.tenant, inside its scope)."""
    return open_invoices(
        invoices=Invoice.objects.all(),
        today=clock.today(),
        detail_url=row_url("tenant_invoice_detail", request.tenant.pk),
        pdf_url=row_url("tenant_invoice_pdf", request.tenant.pk),
    )
