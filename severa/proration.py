"""Pro rata charges for increases made during a period (DESIGN §3.3).

An increase is effective on the day it is confirmed and is charged for the rest of the current
period, by days, both ends included:

    amount = unit price per month × period months × quantity delta
             × remaining days / days in period

rounded half-up to 2 decimals per line. Seed example: period 2025-05-01..2025-07-31 (92 days),
one user added 2025-06-05 -> the line covers 2025-06-05..2025-07-31 = 57 of 92 days; at
10.00 EUR per month that is 10.00 × 3 × 1 × 57 / 92 = 18.5869... -> 18.59 EUR.

Why it is computed the way it is:

- Days, not months: the period's own day count (28..366) is the denominator, so a day in a
  92-day quarter costs less than a day in a 90-day one, and the charge for the whole period
  equals the full price exactly.
- Multiply first, divide once, round once: the product of the first four factors is exact in
  Decimal; the single division by the day count is the only inexact step, and it is followed
  directly by the one money rounding (`severa.money.quantize`). Rounding a ratio first and
  then multiplying would let the ratio's error grow with the price and flip cents.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, Inexact, localcontext

from severa.money import quantize, ratio, to_decimal
from severa.periods import Period, check_period_length, period_starting

# Working precision for the one division. The quotient is truncated (toward zero) at this many
# significant digits and then rounded half-up to cents by `quantize`. Truncation never carries
# a value across the half-cent boundary (the boundary itself has few digits and is kept
# exactly), so truncate-then-round-half-up equals rounding the exact quotient half-up, for
# any amount below 10**50.
_WORKING_PRECISION = 60


def remaining_period(period: Period, effective_date: date) -> Period:
    """The part of `period` from `effective_date` to its end, both days included."""
    if not period.contains(effective_date):
        raise ValueError(
            f"effective date {effective_date.isoformat()} is outside the period {period}"
        )
    return Period(effective_date, period.end)


def proration_ratio(period: Period, effective_date: date) -> Decimal:
    """Remaining days / days in period, to RATIO_SCALE places (for display and ledgers)."""
    return ratio(remaining_period(period, effective_date).days, period.days)


def _check_inputs(*, period_months: int, covered: Period, period: Period) -> None:
    check_period_length(period_months)
    # The denominator must be the day count of a whole billing period of `period_months`:
    # passing period_months=3 with a one-month period would silently triple the charge.
    if period != period_starting(period.start, period_months):
        raise ValueError(f"{period} is not a {period_months}-month billing period")
    if not (period.contains(covered.start) and period.contains(covered.end)):
        raise ValueError(f"{covered} is not inside the period {period}")


def _numerator(
    *,
    unit_price_per_month: Decimal | int,
    period_months: int,
    quantity_delta: Decimal | int,
    covered_days: int,
) -> Decimal:
    unit_price_per_month = to_decimal(unit_price_per_month, name="unit_price_per_month")
    quantity_delta = to_decimal(quantity_delta, name="quantity_delta")
    with localcontext() as context:
        # Decimal multiplication is exact unless it overflows the precision; make that an error
        # instead of a silent rounding.
        context.prec = _WORKING_PRECISION
        context.traps[Inexact] = True
        return unit_price_per_month * period_months * quantity_delta * covered_days


def _divide_truncated(numerator: Decimal, denominator: int) -> Decimal:
    with localcontext() as context:
        context.prec = _WORKING_PRECISION
        context.rounding = ROUND_DOWN
        return numerator / denominator


def prorated_amount_for(
    *,
    unit_price_per_month: Decimal | int,
    period_months: int,
    quantity_delta: Decimal | int,
    covered: Period,
    period: Period,
    currency: str,
) -> Decimal:
    """Amount for the days of `covered` (a part of `period`), rounded to the currency's cents.

    `prorated_amount` is this with `covered` = effective date .. period end; a one-day
    `covered` gives one day's share.
    """
    _check_inputs(period_months=period_months, covered=covered, period=period)
    numerator = _numerator(
        unit_price_per_month=unit_price_per_month,
        period_months=period_months,
        quantity_delta=quantity_delta,
        covered_days=covered.days,
    )
    # amount = unit price per month × period months × quantity delta × covered days / days
    return quantize(_divide_truncated(numerator, period.days), currency)


def prorated_amount_unrounded(
    *,
    unit_price_per_month: Decimal | int,
    period_months: int,
    quantity_delta: Decimal | int,
    covered: Period,
    period: Period,
) -> Decimal:
    """The same amount before rounding to cents, kept to RATIO_SCALE places (half-up)."""
    _check_inputs(period_months=period_months, covered=covered, period=period)
    numerator = _numerator(
        unit_price_per_month=unit_price_per_month,
        period_months=period_months,
        quantity_delta=quantity_delta,
        covered_days=covered.days,
    )
    return ratio(numerator, period.days)


def prorated_amount(
    *,
    unit_price_per_month: Decimal | int,
    period_months: int,
    quantity_delta: Decimal | int,
    period: Period,
    effective_date: date,
    currency: str,
) -> Decimal:
    """Charge for an increase effective `effective_date` for the rest of `period` (§3.3).

    Raises ValueError if `effective_date` is outside `period`, or `period` is not a whole
    `period_months`-month billing period. Floats are refused (TypeError).
    """
    return prorated_amount_for(
        unit_price_per_month=unit_price_per_month,
        period_months=period_months,
        quantity_delta=quantity_delta,
        covered=remaining_period(period, effective_date),
        period=period,
        currency=currency,
    )


def edition_upgrade_amount(
    *,
    old_price_per_seat_month: Decimal | int,
    new_price_per_seat_month: Decimal | int,
    seats: int,
    period_months: int,
    period: Period,
    effective_date: date,
    currency: str,
) -> Decimal:
    """Charge for an edition upgrade: per-seat price difference × seats, pro rata (§3.3)."""
    old_price = to_decimal(old_price_per_seat_month, name="old_price_per_seat_month")
    new_price = to_decimal(new_price_per_seat_month, name="new_price_per_seat_month")
    if new_price < old_price:
        raise ValueError("an edition change to a lower price is a downgrade, not an upgrade")
    return prorated_amount(
        unit_price_per_month=new_price - old_price,
        period_months=period_months,
        quantity_delta=seats,
        period=period,
        effective_date=effective_date,
        currency=currency,
    )
