import datetime

import pytest
from django.utils import timezone

from severa import clock


def test_the_clock_runs_on_the_real_time_by_default():
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_frozen_at_a_date_and_restored():
    with clock.frozen(datetime.date(2024, 2, 29)):
        assert clock.today() == datetime.date(2024, 2, 29)
        with clock.frozen(datetime.date(2025, 12, 31)):
            assert clock.today() == datetime.date(2025, 12, 31)
        assert clock.today() == datetime.date(2024, 2, 29)
    assert clock.today() == timezone.localdate()


def test_today_is_the_local_date_in_helsinki():
    # 22:30 UTC on 31 May is already 1 June in Helsinki (UTC+3 in summer).
    moment = datetime.datetime(2025, 5, 31, 22, 30, tzinfo=datetime.UTC)
    with clock.frozen(moment):
        assert clock.today() == datetime.date(2025, 6, 1)


def test_a_naive_datetime_is_refused():
    with (
        pytest.raises(ValueError, match="aware"),
        clock.frozen(
            datetime.datetime(2025, 1, 1)  # noqa: DTZ001
        ),
    ):
        pass


def test_replayed_date_keeps_the_time_of_day(settings):
    settings.SEVERA_TODAY = datetime.date(2025, 6, 5)
    first = clock.now()
    assert clock.today() == datetime.date(2025, 6, 5)
    assert clock.now() >= first


def test_freezes_ending_out_of_order_leave_the_clock_running():
    """Two threads of one test each freezing the clock and ending in the other order."""
    first, second = clock.frozen(datetime.date(2024, 1, 1)), clock.frozen(datetime.date(2025, 1, 1))
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert clock.today() == datetime.date(2025, 1, 1)
    second.__exit__(None, None, None)
    assert clock.today() == timezone.localdate()
