"""What the operator dashboard shows: recurring revenue per seller and currency, this month's
invoices, failed deliveries and the billing schedule (failing integrations are added by
integrations, through accounts.hooks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.locale_format import money_format, month_format
from accounts.models import OutboxMessage, OutboxStatus
from billing.invoice_list import OPEN_STATUSES
from billing.models import (
    EInvoiceDelivery,
    EInvoiceDeliveryStatus,
    Invoice,
    InvoiceKind,
)
from billing.revenue import RevenueSeries, month_starts, monthly_revenue
from billing.schedule import BillingSchedule, billing_schedule
from severa.charts import LineChart, line_chart


@dataclass(frozen=True)
class RevenueChart:
    currency: str
    chart: LineChart
    months: list[str]
    series: list[RevenueSeries]


@dataclass(frozen=True)
class OperatorDashboard:
    revenue: list[RevenueChart]
    invoices_issued_this_month: int
    invoices_overdue: int
    failed_emails: int
    failed_einvoices: int
    schedule: BillingSchedule


def operator_dashboard(*, now: datetime) -> OperatorDashboard:
    """The dashboard at `now` (call with scopes disabled)."""
    today = timezone.localtime(now).date()
    months = [month_format(start) for start in month_starts(today)]
    series = monthly_revenue(today)
    charts = []
    for currency in sorted({item.currency for item in series}):
        mine = [item for item in series if item.currency == currency]
        charts.append(
            RevenueChart(
                currency=currency,
                chart=line_chart(
                    months,
                    {item.seller: item.amounts for item in mine},
                    lambda value, currency=currency: money_format(value, currency),
                ),
                months=months,
                series=mine,
            )
        )
    invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE)
    return OperatorDashboard(
        revenue=charts,
        invoices_issued_this_month=invoices.filter(
            invoice_date__gte=today.replace(day=1), invoice_date__lte=today
        ).count(),
        invoices_overdue=invoices.filter(status__in=OPEN_STATUSES, due_date__lt=today).count(),
        failed_emails=OutboxMessage.objects.filter(status=OutboxStatus.FAILED).count(),
        failed_einvoices=EInvoiceDelivery.objects.filter(
            status=EInvoiceDeliveryStatus.FAILED
        ).count(),
        schedule=billing_schedule(now=now),
    )
