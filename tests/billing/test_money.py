from decimal import Decimal

import pytest

from severa.money import (
    CURRENCIES,
    RATIO_QUANTUM,
    RATIO_SCALE,
    Money,
    cash_round,
    minor_unit,
    quantize,
    ratio,
)


def test_supported_currencies_all_have_two_decimals():
    assert sorted(CURRENCIES) == ["DKK", "EUR", "NOK", "SEK"]
    assert {minor_unit(currency) for currency in CURRENCIES} == {2}


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("18.585"), Decimal("18.59")),  # a half rounds up
        (Decimal("18.58499999"), Decimal("18.58")),
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("0.0049"), Decimal("0.00")),
        (Decimal("-0.005"), Decimal("-0.01")),  # halves round away from zero: credits mirror
        (Decimal("-18.585"), Decimal("-18.59")),
        (Decimal("2.675"), Decimal("2.68")),  # the classic float trap, exact in Decimal
        (Decimal("10"), Decimal("10.00")),
        (7, Decimal("7.00")),
    ],
)
def test_quantize_rounds_half_up_to_cents(amount, expected):
    result = quantize(amount, "EUR")

    assert result == expected
    assert result.as_tuple().exponent == -2


def test_quantize_refuses_float():
    with pytest.raises(TypeError, match="float"):
        quantize(0.1, "EUR")


@pytest.mark.parametrize("value", [True, "1.00", None])
def test_quantize_refuses_non_decimal(value):
    with pytest.raises(TypeError):
        quantize(value, "EUR")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_quantize_refuses_non_finite(value):
    with pytest.raises(ValueError, match="finite"):
        quantize(value, "EUR")


@pytest.mark.parametrize("currency", ["USD", "eur", ""])
def test_quantize_refuses_unknown_currency(currency):
    with pytest.raises(ValueError, match="unsupported currency"):
        quantize(Decimal("1"), currency)


def test_ratio_keeps_nine_places_half_up():
    assert RATIO_SCALE == 9
    assert RATIO_QUANTUM.as_tuple() == Decimal("0.000000001").as_tuple()
    assert ratio(57, 92) == Decimal("0.619565217")  # 0.6195652173913...
    assert ratio(2, 3) == Decimal("0.666666667")
    assert ratio(1, 2) == Decimal("0.500000000")


def test_ratio_refuses_zero_denominator():
    with pytest.raises(ValueError, match="zero"):
        ratio(1, 0)


def test_money_addition_and_subtraction_keep_exact_amounts():
    a = Money(Decimal("10.005"), "EUR")
    b = Money(Decimal("0.10"), "EUR")

    assert a + b == Money(Decimal("10.105"), "EUR")
    assert a - b == Money(Decimal("9.905"), "EUR")
    assert -a == Money(Decimal("-10.005"), "EUR")


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(3, Decimal("30.30")), (Decimal("0.5"), Decimal("5.050")), (0, Decimal("0"))],
)
def test_money_multiplies_by_decimal_or_int(factor, expected):
    amount = Money(Decimal("10.10"), "SEK")

    assert amount * factor == Money(expected, "SEK")
    assert factor * amount == Money(expected, "SEK")


def test_money_refuses_float_factor_and_amount():
    with pytest.raises(TypeError, match="float"):
        Money(Decimal("1"), "EUR") * 1.5
    with pytest.raises(TypeError, match="float"):
        Money(1.5, "EUR")


def test_money_refuses_money_times_money():
    with pytest.raises(TypeError):
        Money(Decimal("1"), "EUR") * Money(Decimal("1"), "EUR")


def test_money_int_amount_becomes_decimal():
    assert Money(5, "NOK").amount == Decimal("5")
    assert isinstance(Money(5, "NOK").amount, Decimal)


def test_money_refuses_unknown_currency():
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(Decimal("1"), "USD")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_money_refuses_mixed_currencies(operation):
    with pytest.raises(ValueError, match="different currencies: EUR and SEK"):
        operation(Money(Decimal("1"), "EUR"), Money(Decimal("1"), "SEK"))


def test_money_comparisons():
    small = Money(Decimal("1.00"), "DKK")
    large = Money(Decimal("2.00"), "DKK")

    assert small < large
    assert small <= large
    assert large > small
    assert large >= small
    assert small == Money(Decimal("1.0"), "DKK")
    assert small != Money(Decimal("1.00"), "EUR")


def test_money_is_frozen():
    amount = Money(Decimal("1"), "EUR")

    with pytest.raises(AttributeError):
        amount.amount = Decimal("2")


def test_money_quantized_and_zero():
    assert Money(Decimal("18.5869"), "EUR").quantized() == Money(Decimal("18.59"), "EUR")
    assert Money.zero("NOK") == Money(Decimal("0"), "NOK")
    assert str(Money(Decimal("18.59"), "EUR")) == "18.59 EUR"


@pytest.mark.parametrize(
    ("amount", "rounded_total", "rounding_amount"),
    [
        (Decimal("123.45"), Decimal("123.00"), Decimal("-0.45")),
        (Decimal("123.49"), Decimal("123.00"), Decimal("-0.49")),
        (Decimal("123.50"), Decimal("124.00"), Decimal("0.50")),  # a half rounds up
        (Decimal("123.51"), Decimal("124.00"), Decimal("0.49")),
        (Decimal("123.00"), Decimal("123.00"), Decimal("0.00")),
        (Decimal("-10.50"), Decimal("-11.00"), Decimal("-0.50")),  # credit note mirrors
    ],
)
def test_cash_round_to_whole_units(amount, rounded_total, rounding_amount):
    total, rounding = cash_round(amount, "SEK", Decimal("1"))

    assert (total, rounding) == (rounded_total, rounding_amount)
    assert amount + rounding == total  # totals stay consistent (BR-CO-16)


def test_cash_round_defaults_to_whole_units_and_accepts_other_increments():
    assert cash_round(Decimal("99.75"), "NOK") == (Decimal("100.00"), Decimal("0.25"))
    assert cash_round(Decimal("99.74"), "NOK", Decimal("0.50")) == (
        Decimal("99.50"),
        Decimal("-0.24"),
    )


@pytest.mark.parametrize("increment", [Decimal("0"), Decimal("-1"), Decimal("0.001")])
def test_cash_round_refuses_bad_increment(increment):
    with pytest.raises(ValueError):
        cash_round(Decimal("1.00"), "SEK", increment)
