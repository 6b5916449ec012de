"""Billing periods (DESIGN §3.2).

A subscription has a period length of 1, 3, 6 or 12 months and starts its periods on the 1st
of a month. A period is the *closed* date range [start, end], end = start + length - 1 day,
e.g. 2025-05-01 .. 2025-07-31 (92 days).

Why the date maths here is delicate:

- Months have 28, 29, 30 or 31 days, so "N months" is never a fixed number of days; a period
  length must be computed by stepping months, not by adding `timedelta(days=...)`.
- Stepping months from a day after the 28th needs clamping (Jan 31 + 1 month = Feb 28 or 29?),
  which is not reversible and drifts. Periods start on the 1st precisely so that every step
  lands on a real day; `add_months` refuses anything else instead of guessing.
- The range is closed: both the start and the end day are billed, hence `days` is
  `(end - start).days + 1`. Off-by-one errors here cost every customer one day's money.
- `datetime` is a subclass of `date`. A datetime carries a time and maybe a time zone, and
  which *day* it falls on depends on the zone, so periods refuse datetimes outright: callers
  convert to a local date with the project's clock first.

No function here reads the clock; the caller passes the day it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

PERIOD_LENGTHS_MONTHS: frozenset[int] = frozenset({1, 3, 6, 12})

_ONE_DAY = timedelta(days=1)


def _check_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (not a datetime), got {type(value).__name__}")
    return value


def _check_first_of_month(value: date, name: str) -> date:
    _check_date(value, name)
    if value.day != 1:
        raise ValueError(f"{name} must be the 1st of a month, got {value.isoformat()}")
    return value


def check_period_length(length_months: int) -> int:
    """Return `length_months` if it is an allowed period length (1, 3, 6, 12), else raise."""
    if isinstance(length_months, bool) or length_months not in PERIOD_LENGTHS_MONTHS:
        raise ValueError(
            f"period length must be one of {sorted(PERIOD_LENGTHS_MONTHS)} months, "
            f"got {length_months!r}"
        )
    return length_months


@dataclass(frozen=True, slots=True)
class Period:
    """A closed date range: both `start` and `end` belong to the period."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _check_date(self.start, "start")
        _check_date(self.end, "end")
        if self.end < self.start:
            raise ValueError(
                f"period end {self.end.isoformat()} is before its start {self.start.isoformat()}"
            )

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        _check_date(day, "day")
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def add_months(first_of_month: date, months: int) -> date:
    """The 1st of the month `months` months after (or before, if negative) `first_of_month`.

    Only defined for the 1st of a month: from the 29th-31st the result would need clamping to
    the target month's length, which loses information (see the module docstring).
    """
    _check_first_of_month(first_of_month, "date")
    # Count months from year 0 so that year boundaries (Nov + 3 = Feb next year) fall out of
    # divmod rather than special cases.
    month_index = first_of_month.year * 12 + (first_of_month.month - 1) + months
    year, month_zero_based = divmod(month_index, 12)
    return date(year, month_zero_based + 1, 1)


def period_starting(start: date, length_months: int) -> Period:
    """The period of `length_months` months that starts on `start` (a 1st of a month)."""
    _check_first_of_month(start, "start")
    check_period_length(length_months)
    # The end is the day before the next period's start; this gets 28/29/30/31-day months
    # and leap years right without knowing any month's length.
    return Period(start, add_months(start, length_months) - _ONE_DAY)


def next_period(period: Period, length_months: int) -> Period:
    """The period of `length_months` months that starts the day after `period` ends.

    `length_months` may differ from the current period's length (a changed billing cycle), but
    the current period must end on the last day of a month.
    """
    following_start = period.end + _ONE_DAY
    if following_start.day != 1:
        raise ValueError(f"period {period} does not end on the last day of a month")
    return period_starting(following_start, length_months)


def period_for(anchor_start: date, length_months: int, on: date) -> Period:
    """The period containing `on` for a subscription whose first period starts `anchor_start`.

    Periods follow each other without gaps from `anchor_start` (a 1st of a month), each
    `length_months` long. Raises ValueError if `on` is before `anchor_start`.

    Historical lines must use their stored period_start/period_end, not this function: an
    anchor cannot describe a subscription whose period length changed over time.
    """
    _check_first_of_month(anchor_start, "anchor_start")
    check_period_length(length_months)
    _check_date(on, "on")
    if on < anchor_start:
        raise ValueError(
            f"{on.isoformat()} is before the subscription's first period "
            f"starting {anchor_start.isoformat()}"
        )
    # Whole calendar months from the anchor's month to `on`'s month; the day of `on` does not
    # matter because every period starts on a 1st.
    months_elapsed = (on.year - anchor_start.year) * 12 + (on.month - anchor_start.month)
    periods_elapsed = months_elapsed // length_months
    return period_starting(add_months(anchor_start, periods_elapsed * length_months), length_months)
