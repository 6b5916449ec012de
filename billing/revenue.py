"""Monthly recurring revenue for the operator dashboard: the net of every invoiced line
(credit notes subtract) spread over the days of the period it bills, summed per calendar
month, per seller entity and currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.models import InvoiceLine
from severa.money import quantize

MONTHS_SHOWN = 12


def month_starts(today: date, months: int = MONTHS_SHOWN) -> list[date]:
    """The first days of the last `months` months, oldest first, this month last."""
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _month_end(start: date) -> date:
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class RevenueSeries:
    seller: str
    currency: str
    amounts: list[Decimal]  # one per month of `month_starts`


def monthly_revenue(today: date, months: int = MONTHS_SHOWN) -> list[RevenueSeries]:
    """Per seller entity and currency (sorted by currency, then seller), the recurring
    revenue of each of the last `months` months."""
    starts = month_starts(today, months)
    ends = [_month_end(start) for start in starts]
    lines = InvoiceLine.objects.filter(
        period_end__gte=starts[0], period_start__lte=ends[-1]
    ).values_list("invoice__seller__name", "invoice__currency", "period_start", "period_end", "net")
    sums: dict[tuple[str, str], list[Decimal]] = {}
    for seller, currency, period_start, period_end, net in lines:
        days = Decimal((period_end - period_start).days + 1)
        amounts = sums.setdefault((currency, seller), [Decimal(0)] * len(starts))
        for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
            overlap = (min(end, period_end) - max(start, period_start)).days + 1
            if overlap > 0:
                amounts[index] += net * overlap / days
    return [
        RevenueSeries(seller, currency, [quantize(amount, currency) for amount in amounts])
        for (currency, seller), amounts in sorted(sums.items())
    ]
