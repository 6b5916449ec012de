from datetime import date, datetime

import pytest

from severa.periods import (
    PERIOD_LENGTHS_MONTHS,
    Period,
    add_months,
    next_period,
    period_for,
    period_starting,
)


def test_seed_example_quarter_from_may():
    period = period_starting(date(2025, 5, 1), 3)

    assert period == Period(date(2025, 5, 1), date(2025, 7, 31))
    assert period.days == 92


@pytest.mark.parametrize(
    ("start", "length_months", "end", "days"),
    [
        # month ends: 31, 30, 28 and 29 days
        (date(2025, 1, 1), 1, date(2025, 1, 31), 31),
        (date(2025, 4, 1), 1, date(2025, 4, 30), 30),
        (date(2025, 2, 1), 1, date(2025, 2, 28), 28),
        (date(2024, 2, 1), 1, date(2024, 2, 29), 29),  # leap year
        (date(2100, 2, 1), 1, date(2100, 2, 28), 28),  # century, not a leap year
        (date(2000, 2, 1), 1, date(2000, 2, 29), 29),  # divisible by 400: leap year
        (date(2025, 12, 1), 1, date(2025, 12, 31), 31),
        # quarters
        (date(2025, 1, 1), 3, date(2025, 3, 31), 90),
        (date(2024, 1, 1), 3, date(2024, 3, 31), 91),
        (date(2025, 2, 1), 3, date(2025, 4, 30), 89),
        (date(2025, 11, 1), 3, date(2026, 1, 31), 92),  # crosses the year boundary
        (date(2025, 12, 1), 3, date(2026, 2, 28), 90),
        (date(2023, 12, 1), 3, date(2024, 2, 29), 91),
        # half years
        (date(2025, 1, 1), 6, date(2025, 6, 30), 181),
        (date(2024, 1, 1), 6, date(2024, 6, 30), 182),
        (date(2025, 7, 1), 6, date(2025, 12, 31), 184),
        (date(2025, 9, 1), 6, date(2026, 2, 28), 181),
        # years
        (date(2024, 1, 1), 12, date(2024, 12, 31), 366),
        (date(2025, 1, 1), 12, date(2025, 12, 31), 365),
        (date(2024, 3, 1), 12, date(2025, 2, 28), 365),  # leap day is before the start
        (date(2023, 3, 1), 12, date(2024, 2, 29), 366),  # leap day is the last day
    ],
)
def test_period_starting(start, length_months, end, days):
    period = period_starting(start, length_months)

    assert (period.start, period.end, period.days) == (start, end, days)


@pytest.mark.parametrize("length_months", [0, 2, 4, 5, 24, -1, True])
def test_period_length_must_be_1_3_6_or_12(length_months):
    assert sorted(PERIOD_LENGTHS_MONTHS) == [1, 3, 6, 12]
    with pytest.raises(ValueError, match="period length"):
        period_starting(date(2025, 1, 1), length_months)


@pytest.mark.parametrize("start", [date(2025, 1, 2), date(2025, 1, 31), date(2024, 2, 29)])
def test_period_must_start_on_the_first(start):
    with pytest.raises(ValueError, match="1st of a month"):
        period_starting(start, 1)


def test_period_is_closed_both_ends_included():
    period = Period(date(2025, 5, 1), date(2025, 7, 31))

    assert period.contains(date(2025, 5, 1))
    assert period.contains(date(2025, 7, 31))
    assert not period.contains(date(2025, 4, 30))
    assert not period.contains(date(2025, 8, 1))


def test_one_day_period_has_one_day():
    assert Period(date(2025, 6, 5), date(2025, 6, 5)).days == 1


def test_period_refuses_end_before_start():
    with pytest.raises(ValueError, match="before its start"):
        Period(date(2025, 5, 2), date(2025, 5, 1))


def test_period_refuses_datetimes():
    # A datetime's calendar day depends on its time zone; callers convert first.
    with pytest.raises(TypeError, match="not a datetime"):
        Period(datetime(2025, 5, 1, 12, 0), date(2025, 5, 31))  # noqa: DTZ001
    with pytest.raises(TypeError, match="not a datetime"):
        Period(date(2025, 5, 1), date(2025, 5, 31)).contains(datetime(2025, 5, 2))  # noqa: DTZ001


def test_period_str():
    assert str(Period(date(2025, 5, 1), date(2025, 7, 31))) == "2025-05-01..2025-07-31"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 1), 0, date(2025, 1, 1)),
        (date(2025, 1, 1), 1, date(2025, 2, 1)),
        (date(2025, 11, 1), 3, date(2026, 2, 1)),
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2025, 1, 1), 12, date(2026, 1, 1)),
        (date(2025, 1, 1), 25, date(2027, 2, 1)),
        (date(2025, 1, 1), -1, date(2024, 12, 1)),
        (date(2025, 3, 1), -14, date(2024, 1, 1)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_add_months_refuses_day_other_than_first():
    # Jan 31 + 1 month has no right answer; periods never need one.
    with pytest.raises(ValueError, match="1st of a month"):
        add_months(date(2025, 1, 31), 1)


@pytest.mark.parametrize(
    ("period", "length_months", "expected"),
    [
        (
            Period(date(2025, 5, 1), date(2025, 7, 31)),
            3,
            Period(date(2025, 8, 1), date(2025, 10, 31)),
        ),
        (
            Period(date(2025, 11, 1), date(2026, 1, 31)),
            3,
            Period(date(2026, 2, 1), date(2026, 4, 30)),
        ),
        (
            Period(date(2023, 2, 1), date(2024, 1, 31)),
            1,
            Period(date(2024, 2, 1), date(2024, 2, 29)),
        ),
        (  # a changed billing cycle: a quarter followed by a year
            Period(date(2025, 1, 1), date(2025, 3, 31)),
            12,
            Period(date(2025, 4, 1), date(2026, 3, 31)),
        ),
    ],
)
def test_next_period(period, length_months, expected):
    assert next_period(period, length_months) == expected


def test_next_period_refuses_period_not_ending_on_month_end():
    with pytest.raises(ValueError, match="last day of a month"):
        next_period(Period(date(2025, 5, 1), date(2025, 7, 30)), 3)


@pytest.mark.parametrize(
    ("anchor_start", "length_months", "on", "expected_start", "expected_end"),
    [
        (date(2025, 5, 1), 3, date(2025, 5, 1), date(2025, 5, 1), date(2025, 7, 31)),
        (date(2025, 5, 1), 3, date(2025, 6, 5), date(2025, 5, 1), date(2025, 7, 31)),
        (date(2025, 5, 1), 3, date(2025, 7, 31), date(2025, 5, 1), date(2025, 7, 31)),
        (date(2025, 5, 1), 3, date(2025, 8, 1), date(2025, 8, 1), date(2025, 10, 31)),
        (date(2025, 5, 1), 3, date(2026, 1, 15), date(2025, 11, 1), date(2026, 1, 31)),
        (date(2025, 5, 1), 3, date(2026, 2, 1), date(2026, 2, 1), date(2026, 4, 30)),
        (date(2024, 1, 1), 1, date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 1, 1), 1, date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 31)),
        (date(2023, 3, 1), 12, date(2024, 2, 29), date(2023, 3, 1), date(2024, 2, 29)),
        (date(2023, 3, 1), 12, date(2024, 3, 1), date(2024, 3, 1), date(2025, 2, 28)),
        (date(2024, 9, 1), 6, date(2025, 2, 28), date(2024, 9, 1), date(2025, 2, 28)),
        (date(2024, 9, 1), 6, date(2025, 3, 1), date(2025, 3, 1), date(2025, 8, 31)),
        (date(2020, 1, 1), 12, date(2025, 12, 31), date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_period_for(anchor_start, length_months, on, expected_start, expected_end):
    period = period_for(anchor_start, length_months, on)

    assert period == Period(expected_start, expected_end)
    assert period.contains(on)


def test_period_for_refuses_date_before_first_period():
    with pytest.raises(ValueError, match="before the subscription's first period"):
        period_for(date(2025, 5, 1), 3, date(2025, 4, 30))


def test_period_for_refuses_anchor_not_on_first():
    with pytest.raises(ValueError, match="1st of a month"):
        period_for(date(2025, 5, 2), 3, date(2025, 6, 1))


def test_period_for_refuses_bad_length():
    with pytest.raises(ValueError, match="period length"):
        period_for(date(2025, 5, 1), 2, date(2025, 6, 1))


@pytest.mark.parametrize("length_months", sorted(PERIOD_LENGTHS_MONTHS))
def test_consecutive_periods_tile_the_calendar_without_gaps(length_months):
    # Walking period after period for 4 years covers every day exactly once.
    period = period_starting(date(2023, 1, 1), length_months)
    covered_days = 0
    while period.start < date(2027, 1, 1):
        following = next_period(period, length_months)
        assert (following.start - period.end).days == 1
        covered_days += period.days
        period = following

    assert covered_days == (date(2027, 1, 1) - date(2023, 1, 1)).days
