"""Billing runs (DESIGN §3.4): everything due up to a date, one day at a time.

For each day: the period rollover (`billing.rollover.rollover_run`), the weekly
invoicing run on `settings.INVOICING_WEEKDAY` (0 = Monday), and overdue marking. Each is a
`BillingRun` row of its kind for that day (`billing.run_records`), so running a day again
continues or re-checks it and never does anything twice: the jobs' effects are guarded by
unique keys (one renewal per subscription and period; one invoice per run, recipient and
seller; an order line invoiced once).

`billing_run(up_to)` starts the day after the last finished rollover run (or at `up_to` when
there is none, and always re-checks `up_to` itself), so a missed day, a stopped beat or a
replay with `manage.py billing_run --date` catches up every day in between: a Monday in
between gets its invoicing run on its own date. Every function takes its date explicitly;
none freezes or reads the process clock to decide what day it is.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Max
from django_scopes import scopes_disabled

from billing.invoicing import overdue_mark
from billing.issuing import INVOICING_COUNTS, invoices_issue
from billing.migration import seller_migrations_apply, seller_migrations_notify_due
from billing.models import BillingRun, BillingRunKind, BillingRunStatus
from billing.rollover import BATCH_SIZE, rollover_run
from billing.run_records import RunTally, run_begin, run_end, run_failed

_ONE_DAY = timedelta(days=1)


def invoicing_run(day: date, *, deliver: bool = True, batch_size: int = BATCH_SIZE) -> BillingRun:
    """The weekly invoicing run of `day`: invoice every confirmed order made on or before
    `day` that is not invoiced yet, one invoice per tenant and seller, dated `day`
    (`billing.issuing`).

    A tenant that cannot be invoiced (orders in two currencies from one seller, a seller
    without a bank account in the currency) is recorded as an error and skipped; the others
    are invoiced. `deliver=False` issues without queueing PDFs and e-mails (replays and
    benchmarks).
    """
    with scopes_disabled():
        run = run_begin(kind=BillingRunKind.INVOICING, run_date=day)
        tally = RunTally.of(*INVOICING_COUNTS)
        try:
            invoices_issue(
                billing_run=run,
                invoice_date=day,
                deliver=deliver,
                batch_size=batch_size,
                tally=tally,
            )
        except Exception as error:
            run_failed(run, tally, error)
            raise
        return run_end(run, tally)


def overdue_run(day: date) -> BillingRun:
    """Mark the invoices whose due date is before `day` and that are unpaid as overdue."""
    with scopes_disabled():
        run = run_begin(kind=BillingRunKind.OVERDUE, run_date=day)
        tally = RunTally.of("marked_overdue")
        try:
            tally.add("marked_overdue", overdue_mark(day))
        except Exception as error:
            run_failed(run, tally, error)
            raise
        return run_end(run, tally)


def _seller_migrations(day: date) -> dict[str, int]:
    """Seller migration cohorts (DESIGN §3.5): notices due by `day` go out, and cohorts that
    start on `day` switch to the new seller before that day's renewals are ordered."""
    counts = {**seller_migrations_notify_due(on=day), **seller_migrations_apply(on=day)}
    return {f"seller_migration.{name}": amount for name, amount in counts.items()}


def invoicing_weekday() -> int:
    return settings.INVOICING_WEEKDAY


def first_day_due(up_to: date) -> date:
    """The day after the last finished rollover run, or `up_to` when there is none; never
    after `up_to` (the last day is always re-checked)."""
    with scopes_disabled():
        last = BillingRun.objects.filter(
            kind=BillingRunKind.ROLLOVER, status=BillingRunStatus.FINISHED
        ).aggregate(last=Max("run_date"))["last"]
    if last is None:
        return up_to
    return min(last + _ONE_DAY, up_to)


def billing_run(
    up_to: date,
    *,
    start: date | None = None,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
) -> list[BillingRun]:
    """Run everything due from `start` (default `first_day_due(up_to)`) to `up_to`, day by
    day: rollover, the invoicing run on the invoicing weekday, overdue marking."""
    first = start if start is not None else first_day_due(up_to)
    if first > up_to:
        raise ValueError(f"--from {first.isoformat()} is after --date {up_to.isoformat()}")
    runs: list[BillingRun] = []
    day = first
    while day <= up_to:
        runs.append(
            rollover_run(
                day, deliver=deliver, batch_size=batch_size, before_renewals=_seller_migrations
            )
        )
        if day.weekday() == invoicing_weekday():
            runs.append(invoicing_run(day, deliver=deliver, batch_size=batch_size))
        runs.append(overdue_run(day))
        day += _ONE_DAY
    return runs
