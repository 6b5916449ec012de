"""Invoice totals: pure calculations on plain values.

A row's net is quantity × unit price rounded once to cents (half-up, ``severa.money``);
VAT is computed per VAT rate on the sum of the nets of that rate and rounded once per rate,
so rows of one rate never disagree with the rate's total by a rounding cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from severa.money import quantize, to_decimal

HUNDRED = Decimal(100)


def row_net(quantity: Decimal, unit_price: Decimal, currency: str = "EUR") -> Decimal:
    return quantize(
        to_decimal(quantity, name="quantity") * to_decimal(unit_price, name="unit_price"),
        currency,
    )


@dataclass(frozen=True)
class VatBreakdown:
    vat_rate: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    net: Decimal
    vat: Decimal
    total: Decimal
    by_rate: tuple[VatBreakdown, ...]


def invoice_totals(
    rows: Iterable[tuple[Decimal, Decimal, Decimal]], currency: str = "EUR"
) -> InvoiceTotals:
    """Totals of rows given as (quantity, unit_price, vat_rate %)."""
    nets: dict[Decimal, Decimal] = {}
    for quantity, unit_price, vat_rate in rows:
        rate = to_decimal(vat_rate, name="vat_rate")
        nets[rate] = nets.get(rate, Decimal(0)) + row_net(quantity, unit_price, currency)
    by_rate = tuple(
        VatBreakdown(rate, net, quantize(net * rate / HUNDRED, currency))
        for rate, net in sorted(nets.items())
    )
    net = sum((item.net for item in by_rate), Decimal(0))
    vat = sum((item.vat for item in by_rate), Decimal(0))
    zero = quantize(Decimal(0), currency)
    return InvoiceTotals(net=net + zero, vat=vat + zero, total=net + vat + zero, by_rate=by_rate)
