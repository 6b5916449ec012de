"""Priced lines and their totals: what a quote, a renewal and an order are made of (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from severa import line_texts
from severa.money import quantize
from severa.periods import Period
from severa.vat import VatDecision, vat_amount


@dataclass(frozen=True, slots=True)
class QuoteLine:
    kind: str
    item_type: str
    item_code: str
    description: str
    unit_price: Decimal  # per month (per seat per month for per-seat items)
    quantity: int
    period: Period  # the days this line pays for, both ends included
    net: Decimal
    vat_rate: Decimal
    vat_category: str
    vat: Decimal
    total: Decimal
    # What the line is about (`severa.line_texts`): its `description` is rendered from
    # them in the active language, and an order renders them again in its buyer's.
    text_kind: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class LineCollector:
    """Collects priced lines of one kind covering one period; `amount(unit, quantity)` gives a
    line's net amount (pro rata for increases, whole periods for renewals)."""

    kind: str
    covered: Period
    amount: Callable[[Decimal, int], Decimal]
    vat: VatDecision
    currency: str
    lines: list[QuoteLine] = field(default_factory=list)

    def add(
        self,
        item_type: str,
        code: str,
        text_kind: str,
        params: dict[str, Any],
        unit: Decimal,
        qty: int,
    ) -> None:
        """A line of `text_kind` with `params` (`severa.line_texts`), described in the active
        language."""
        # A zero or negative difference (an item now included in the edition, a higher edition
        # priced lower in this currency) makes no line: nothing is credited by a quote.
        if unit <= 0 or qty <= 0:
            return
        net = self.amount(unit, qty)
        line_vat = vat_amount(net, self.vat.rate, self.currency)
        self.lines.append(
            QuoteLine(
                kind=self.kind,
                item_type=item_type,
                item_code=code,
                description=line_texts.line_text(text_kind, params),
                unit_price=unit,
                quantity=qty,
                period=self.covered,
                net=net,
                vat_rate=self.vat.rate,
                vat_category=self.vat.category,
                vat=line_vat,
                total=net + line_vat,
                text_kind=text_kind,
                params=params,
            )
        )


def lines_totals(
    *, lines: Iterable[QuoteLine], vat: VatDecision, currency: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, gross) of `lines`, all in one currency.

    VAT is computed once on the summed net, not by adding the lines' rounded VAT: that is how
    the invoice must state it (EN 16931 BR-CO-17: VAT category tax amount = taxable amount ×
    rate, rounded), so the quote, the order confirmation and the invoice show the same VAT.
    The lines' own VAT figures may therefore differ from the total by a cent.
    """
    net = quantize(sum((line.net for line in lines), Decimal(0)), currency)
    total_vat = vat_amount(net, vat.rate, currency)
    return net, total_vat, net + total_vat
