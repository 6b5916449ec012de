"""End-to-end stories through the real billing run (`billing.runs.billing_run`, what the
daily task and `manage.py billing_run` run) with the one clock (`severa.clock`): each action
happens on its day with the clock at that day, and the run catches up every day in between,
as the beat would run it."""

import datetime

import pytest

from billing.runs import billing_run
from severa import clock


@pytest.fixture(autouse=True)
def _no_helper_tasks(settings):
    settings.BILLING_RUN_HELPERS = 0


@pytest.fixture
def live_until(django_capture_on_commit_callbacks):
    """`live_until(day)`: the days up to `day` go by: the billing run of each day since the
    last one, with the clock at `day`; what waits for a commit (notices by e-mail) happens.
    Deliveries are off: no PDFs or invoice e-mails are rendered."""

    def live(day: datetime.date) -> list:
        with clock.frozen(day), django_capture_on_commit_callbacks(execute=True):
            return billing_run(up_to=day, deliver=False)

    return live
