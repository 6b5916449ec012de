"""Billing jobs for Celery workers: the daily run, and helpers that share its work.

Both are idempotent (acks late, so a worker killed mid-task gets the message redelivered):
the run's effects are guarded by unique keys and its runs are re-entrant (`billing.runs`).

The daily run splits each rollover and invoicing run into chunks (`billing.chunks`) and
queues `settings.BILLING_RUN_HELPERS` helper tasks (at most one per chunk beyond the first):
whichever workers pick them up, on any machine, claim chunks alongside it. A helper that
comes late finds nothing open and ends at once.
"""

from celery import shared_task
from django.conf import settings

from billing.models import BillingRun
from billing.run_records import run_summary
from billing.runs import billing_run, run_help
from severa import clock


@shared_task(name="billing.daily_run", acks_late=True)
def daily_run() -> list[dict]:
    """Everything due up to today (Celery beat, every day at 03:00 Europe/Helsinki): the
    rollover, the weekly invoicing run on its weekday, overdue marking; days missed while
    the beat or the workers were down are caught up first."""
    return [run_summary(run=run) for run in billing_run(up_to=clock.today(), planned=helpers_queue)]


def helpers_queue(run: BillingRun, chunks: int, *, deliver: bool = True) -> int:
    """Queue helper tasks for `run`, split into `chunks`; returns how many."""
    helpers = max(0, min(settings.BILLING_RUN_HELPERS, chunks - 1))
    for _ in range(helpers):
        run_chunks_help.delay(run_id=run.pk, deliver=deliver)
    return helpers


@shared_task(name="billing.run_chunks_help", acks_late=True)
def run_chunks_help(*, run_id: int, deliver: bool = True) -> dict:
    """Claim chunks of the rollover or invoicing run `run_id` alongside the worker that runs
    it, until none is left to claim."""
    return run_summary(run=run_help(run_id=run_id, deliver=deliver))
