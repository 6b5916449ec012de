"""Billing jobs for Celery workers: the daily run.

It is idempotent (acks late, so a worker killed mid-task gets the message redelivered): the
run's effects are guarded by unique keys and its runs are re-entrant (`billing.runs`).
"""

from celery import shared_task

from billing.run_records import run_summary
from billing.runs import billing_run
from severa import clock


@shared_task(name="billing.daily_run", acks_late=True)
def daily_run() -> list[dict]:
    """Everything due up to today (Celery beat, every day at 03:00 Europe/Helsinki): the
    rollover, the weekly invoicing run on its weekday, overdue marking; days missed while
    the beat or the workers were down are caught up first."""
    return [run_summary(run) for run in billing_run(clock.today())]
