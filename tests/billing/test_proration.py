from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from severa.periods import Period, period_starting
from severa.proration import (
    edition_upgrade_amount,
    prorated_amount,
    prorated_amount_for,
    prorated_amount_unrounded,
    proration_ratio,
    remaining_period,
)

SEED_PERIOD = Period(date(2025, 5, 1), date(2025, 7, 31))


def test_seed_example_one_user_added_on_june_5th():
    # DESIGN §3.3: the line covers 2025-06-05..2025-07-31 = 57 of 92 days.
    covered = remaining_period(SEED_PERIOD, date(2025, 6, 5))

    assert covered == Period(date(2025, 6, 5), date(2025, 7, 31))
    assert (covered.days, SEED_PERIOD.days) == (57, 92)
    # 10.00 × 3 × 1 × 57 / 92 = 1710 / 92 = 18.58695652... -> 18.59
    assert prorated_amount(
        unit_price_per_month=Decimal("10.00"),
        period_months=3,
        quantity_delta=1,
        period=SEED_PERIOD,
        effective_date=date(2025, 6, 5),
        currency="EUR",
    ) == Decimal("18.59")


def test_seed_example_ratio_and_unrounded_amount():
    assert proration_ratio(SEED_PERIOD, date(2025, 6, 5)) == Decimal("0.619565217")
    assert prorated_amount_unrounded(
        unit_price_per_month=Decimal("10.00"),
        period_months=3,
        quantity_delta=1,
        covered=Period(date(2025, 6, 5), date(2025, 7, 31)),
        period=SEED_PERIOD,
    ) == Decimal("18.586956522")


def test_edition_upgrade_charges_price_difference_per_seat():
    # Professional 20.00 -> Business 30.00 per seat per month, 5 seats, from 2025-06-05:
    # 10.00 × 3 × 5 × 57 / 92 = 8550 / 92 = 92.93478... -> 92.93
    amount = edition_upgrade_amount(
        old_price_per_seat_month=Decimal("20.00"),
        new_price_per_seat_month=Decimal("30.00"),
        seats=5,
        period_months=3,
        period=SEED_PERIOD,
        effective_date=date(2025, 6, 5),
        currency="EUR",
    )

    assert amount == Decimal("92.93")


def test_edition_upgrade_refuses_a_downgrade():
    with pytest.raises(ValueError, match="downgrade"):
        edition_upgrade_amount(
            old_price_per_seat_month=Decimal("30.00"),
            new_price_per_seat_month=Decimal("20.00"),
            seats=5,
            period_months=3,
            period=SEED_PERIOD,
            effective_date=date(2025, 6, 5),
            currency="EUR",
        )


@pytest.mark.parametrize(
    (
        "unit_price",
        "period_start",
        "period_months",
        "quantity_delta",
        "effective_date",
        "currency",
        "expected",
    ),
    [
        # first day: the full price, exactly
        (Decimal("10.00"), date(2025, 5, 1), 3, 1, date(2025, 5, 1), "EUR", Decimal("30.00")),
        # last day: one day of 92; 30 / 92 = 0.326... -> 0.33
        (Decimal("10.00"), date(2025, 5, 1), 3, 1, date(2025, 7, 31), "EUR", Decimal("0.33")),
        # leap February, last day: 99.00 / 29 = 3.41379... -> 3.41
        (Decimal("99.00"), date(2024, 2, 1), 1, 1, date(2024, 2, 29), "SEK", Decimal("3.41")),
        # same price in a 28-day February costs more per day: 99.00 / 28 = 3.5357 -> 3.54
        (Decimal("99.00"), date(2025, 2, 1), 1, 1, date(2025, 2, 28), "SEK", Decimal("3.54")),
        # year 2024 (366 days), from 2024-03-01: 306 days; 12 × 12 × 3 × 306 / 366 = 361.18..
        (Decimal("12"), date(2024, 1, 1), 12, 3, date(2024, 3, 1), "NOK", Decimal("361.18")),
        # year 2025 (365 days), from 2025-03-01: 306 days; 432 × 306 / 365 = 362.17...
        (Decimal("12"), date(2025, 1, 1), 12, 3, date(2025, 3, 1), "NOK", Decimal("362.17")),
        # across the year boundary: 2025-11-01..2026-01-31, from 2026-01-01: 31 of 92 days;
        # 45 × 3 × 2 × 31 / 92 = 90.978... -> 90.98
        (Decimal("45"), date(2025, 11, 1), 3, 2, date(2026, 1, 1), "DKK", Decimal("90.98")),
        # a half cent rounds up: 0.005 × 1 × 1 × 31 / 31 = 0.005 -> 0.01
        (Decimal("0.005"), date(2025, 1, 1), 1, 1, date(2025, 1, 1), "EUR", Decimal("0.01")),
        # half-year 2025-07..12 (184 days), from 2025-10-01: 92 days = exactly half
        (Decimal("8.33"), date(2025, 7, 1), 6, 1, date(2025, 10, 1), "EUR", Decimal("24.99")),
        # quantity as a Decimal (storage GB steps)
        (
            Decimal("0.10"),
            date(2025, 5, 1),
            3,
            Decimal("40"),
            date(2025, 6, 5),
            "EUR",
            Decimal("7.43"),
        ),
        (Decimal("10.00"), date(2025, 5, 1), 3, 0, date(2025, 6, 5), "EUR", Decimal("0.00")),
    ],
)
def test_prorated_amount(
    unit_price, period_start, period_months, quantity_delta, effective_date, currency, expected
):
    amount = prorated_amount(
        unit_price_per_month=unit_price,
        period_months=period_months,
        quantity_delta=quantity_delta,
        period=period_starting(period_start, period_months),
        effective_date=effective_date,
        currency=currency,
    )

    assert amount == expected
    assert amount.as_tuple().exponent == -2


def test_exact_half_cent_rounds_up():
    # 0.01 × 3 × 1 × 46 / 92 = 0.015 exactly -> 0.02 (half up).
    amount = prorated_amount(
        unit_price_per_month=Decimal("0.01"),
        period_months=3,
        quantity_delta=1,
        period=SEED_PERIOD,
        effective_date=date(2025, 6, 16),  # 2025-06-16..07-31 = 46 days
        currency="EUR",
    )

    assert amount == Decimal("0.02")


def test_divides_once_instead_of_multiplying_a_rounded_ratio():
    # 208.41 × 3 × 1000 × 3 / 92 = 20387.934782... -> 20387.93. Multiplying by the 9-place
    # ratio 3/92 = 0.032608696 (rounded up) first would give 20387.9348... -> 20387.94.
    amount = prorated_amount(
        unit_price_per_month=Decimal("208.41"),
        period_months=3,
        quantity_delta=1000,
        period=SEED_PERIOD,
        effective_date=date(2025, 7, 29),
        currency="EUR",
    )

    assert proration_ratio(SEED_PERIOD, date(2025, 7, 29)) == Decimal("0.032608696")
    assert amount == Decimal("20387.93")


@pytest.mark.parametrize("effective_date", [date(2025, 4, 30), date(2025, 8, 1)])
def test_refuses_effective_date_outside_period(effective_date):
    with pytest.raises(ValueError, match="outside the period"):
        prorated_amount(
            unit_price_per_month=Decimal("10.00"),
            period_months=3,
            quantity_delta=1,
            period=SEED_PERIOD,
            effective_date=effective_date,
            currency="EUR",
        )


def test_refuses_period_of_another_length():
    with pytest.raises(ValueError, match="not a 1-month billing period"):
        prorated_amount(
            unit_price_per_month=Decimal("10.00"),
            period_months=1,
            quantity_delta=1,
            period=SEED_PERIOD,
            effective_date=date(2025, 6, 5),
            currency="EUR",
        )


def test_refuses_float_price():
    with pytest.raises(TypeError, match="float"):
        prorated_amount(
            unit_price_per_month=10.0,
            period_months=3,
            quantity_delta=1,
            period=SEED_PERIOD,
            effective_date=date(2025, 6, 5),
            currency="EUR",
        )


def test_refuses_covered_range_outside_period():
    with pytest.raises(ValueError, match="not inside the period"):
        prorated_amount_for(
            unit_price_per_month=Decimal("10.00"),
            period_months=3,
            quantity_delta=1,
            covered=Period(date(2025, 7, 1), date(2025, 8, 1)),
            period=SEED_PERIOD,
            currency="EUR",
        )


# --- properties ----------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=2)
quantities = st.integers(min_value=0, max_value=10_000)
period_lengths = st.sampled_from([1, 3, 6, 12])
period_starts = st.builds(
    date,
    st.integers(min_value=2000, max_value=2100),
    st.integers(min_value=1, max_value=12),
    st.just(1),
)


def _days(period):
    return [period.start + timedelta(days=offset) for offset in range(period.days)]


@given(price=prices, quantity=quantities, length=period_lengths, start=period_starts)
def test_effective_on_first_day_is_the_full_price(price, quantity, length, start):
    period = period_starting(start, length)

    amount = prorated_amount(
        unit_price_per_month=price,
        period_months=length,
        quantity_delta=quantity,
        period=period,
        effective_date=period.start,
        currency="EUR",
    )

    assert amount == price * length * quantity


@given(
    price=prices,
    quantity=quantities,
    length=period_lengths,
    start=period_starts,
    offset=st.integers(min_value=0, max_value=365),
)
def test_never_negative_and_never_more_than_full_price(price, quantity, length, start, offset):
    period = period_starting(start, length)
    effective_date = period.start + timedelta(days=offset % period.days)

    amount = prorated_amount(
        unit_price_per_month=price,
        period_months=length,
        quantity_delta=quantity,
        period=period,
        effective_date=effective_date,
        currency="SEK",
    )

    assert Decimal(0) <= amount <= price * length * quantity


@given(
    price=prices,
    quantity=quantities,
    length=period_lengths,
    start=period_starts,
    first=st.integers(min_value=0, max_value=365),
    second=st.integers(min_value=0, max_value=365),
)
def test_later_effective_date_never_costs_more(price, quantity, length, start, first, second):
    period = period_starting(start, length)
    earlier, later = sorted((first % period.days, second % period.days))

    def amount_from(offset):
        return prorated_amount(
            unit_price_per_month=price,
            period_months=length,
            quantity_delta=quantity,
            period=period,
            effective_date=period.start + timedelta(days=offset),
            currency="EUR",
        )

    assert amount_from(later) <= amount_from(earlier)


@given(price=prices, quantity=quantities, length=period_lengths, start=period_starts)
def test_one_day_slices_add_up_to_the_full_period_price(price, quantity, length, start):
    period = period_starting(start, length)
    full_price = price * length * quantity
    one_day_slices = [Period(day, day) for day in _days(period)]
    arguments = {
        "unit_price_per_month": price,
        "period_months": length,
        "quantity_delta": quantity,
        "period": period,
    }

    # Exactly: the one-day slices cover every day of the period once, so the exact shares add
    # up to the full price with nothing lost or counted twice (both ends included).
    exact_shares = [Fraction(full_price) * slice_.days / period.days for slice_ in one_day_slices]
    assert sum(slice_.days for slice_ in one_day_slices) == period.days
    assert sum(exact_shares) == Fraction(full_price)

    # Unrounded amounts (RATIO_SCALE = 9 places) are off by at most half a unit of the 9th
    # place per slice.
    unrounded_total = sum(
        prorated_amount_unrounded(covered=slice_, **arguments) for slice_ in one_day_slices
    )
    assert abs(unrounded_total - full_price) <= Decimal("0.0000000005") * period.days

    # Rounded to cents per line, each slice is off by at most half a cent.
    rounded_total = sum(
        prorated_amount_for(covered=slice_, currency="EUR", **arguments)
        for slice_ in one_day_slices
    )
    assert abs(rounded_total - full_price) <= Decimal("0.005") * period.days


@given(
    price=prices,
    quantity=quantities,
    length=period_lengths,
    start=period_starts,
    offset=st.integers(min_value=0, max_value=365),
)
def test_rounded_amount_is_the_unrounded_amount_rounded_half_up(
    price, quantity, length, start, offset
):
    period = period_starting(start, length)
    effective_date = period.start + timedelta(days=offset % period.days)
    covered = remaining_period(period, effective_date)
    exact = Fraction(price * length * quantity * covered.days) / period.days

    amount = prorated_amount(
        unit_price_per_month=price,
        period_months=length,
        quantity_delta=quantity,
        period=period,
        effective_date=effective_date,
        currency="EUR",
    )

    # Half-up to cents, computed independently with exact rationals.
    cents = exact * 100
    expected_cents = int(cents) + (1 if cents - int(cents) >= Fraction(1, 2) else 0)
    assert amount == Decimal(expected_cents) / 100
