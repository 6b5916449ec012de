"""Invoice totals (records/totals.py): nets rounded per row, VAT per rate."""

from decimal import Decimal

import pytest

from records.totals import VatBreakdown, invoice_totals, row_net

D = Decimal


@pytest.mark.parametrize(
    ("quantity", "unit_price", "net"),
    [
        (D("3"), D("80.00"), D("240.00")),
        (D("0.5"), D("0.05"), D("0.03")),  # 0.025 rounds half-up
        (D("-1"), D("0.05"), D("-0.05")),
        (D("1.25"), D("0.99"), D("1.24")),  # 1.2375
        (D("0"), D("10.00"), D("0.00")),
    ],
)
def test_a_rows_net_is_quantity_times_unit_price_in_cents_half_up(quantity, unit_price, net):
    assert row_net(quantity, unit_price) == net


def test_vat_is_computed_per_rate_on_the_sum_of_its_nets():
    totals = invoice_totals(
        [
            (D("1"), D("0.10"), D("25.50")),
            (D("1"), D("0.10"), D("25.50")),
            (D("1"), D("0.10"), D("25.50")),
            (D("2"), D("50.00"), D("14.00")),
            (D("1"), D("9.99"), D("0")),
        ]
    )
    # Per row the VAT would be 0.03 three times (0.09); on the rate's 0.30 it is 0.08.
    assert totals.by_rate == (
        VatBreakdown(D("0"), D("9.99"), D("0.00")),
        VatBreakdown(D("14.00"), D("100.00"), D("14.00")),
        VatBreakdown(D("25.50"), D("0.30"), D("0.08")),
    )
    assert (totals.net, totals.vat, totals.total) == (D("110.29"), D("14.08"), D("124.37"))


def test_an_invoice_without_rows_totals_zero():
    totals = invoice_totals([], "SEK")
    assert (totals.net, totals.vat, totals.total, totals.by_rate) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
        (),
    )


def test_a_float_never_reaches_the_totals():
    with pytest.raises(TypeError):
        invoice_totals([(D("1"), 0.1, D("0"))])
