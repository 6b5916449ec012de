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

from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Max
from django_scopes import scopes_disabled

from billing.chunks import chunks_plan, chunks_work
from billing.invoice_status import invoices_mark_overdue
from billing.issuing import (
    INVOICING_COUNTS,
    IssuingCache,
    invoices_issue_orders,
    invoicing_plan,
)
from billing.migration import seller_migrations_apply, seller_migrations_notify_due
from billing.models import BillingRun, BillingRunKind, BillingRunStatus
from billing.rollover import BATCH_SIZE, ROLLOVER_COUNTS, rollover_chunks_work, rollover_run
from billing.run_records import RunTally, run_begin, run_counts_add, run_end, run_failed
from severa import clock

_ONE_DAY = timedelta(days=1)


def invoicing_chunks_work(run: BillingRun, *, deliver: bool, wait: bool = True) -> RunTally:
    """Invoice the open chunks of the invoicing `run` (`billing.chunks`), each in the
    chunk's transaction."""
    cache = IssuingCache()

    def work(order_ids: list[int]) -> RunTally:
        tally = RunTally()
        invoices_issue_orders(
            order_ids=order_ids,
            billing_run=run,
            invoice_date=run.run_date,
            deliver=deliver,
            tally=tally,
            cache=cache,
        )
        return tally

    return chunks_work(run, work, wait=wait)


def invoicing_run(
    *,
    day: date,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
    planned: Callable[[BillingRun, int], None] | None = None,
) -> BillingRun:
    """The weekly invoicing run of `day`: invoice every confirmed order made on or before
    `day` that is not invoiced yet, one invoice per tenant and seller, dated `day`
    (`billing.issuing`), in chunks of `batch_size` recipients that any number of workers
    share (`billing.chunks`); returns once every chunk is done.

    A tenant that cannot be invoiced (orders in two currencies from one seller, a seller
    without a bank account in the currency) is recorded as an error and skipped; the others
    are invoiced. `deliver=False` issues without queueing PDFs and e-mails (replays and
    benchmarks). `planned(run, chunks)` is called once the run's chunks are planned.
    """
    with scopes_disabled():
        run = run_begin(kind=BillingRunKind.INVOICING, run_date=day)
        tally = RunTally.of(*INVOICING_COUNTS)
        try:
            chunks = chunks_plan(
                run, lambda: invoicing_plan(invoice_date=day, batch_size=batch_size)
            )
            if planned is not None:
                planned(run, chunks)
            tally.merge(invoicing_chunks_work(run, deliver=deliver))
        except Exception as error:
            run_failed(run=run, tally=tally, error=error)
            raise
        return run_end(run=run, tally=tally)


def run_help(*, run_id: int, deliver: bool = True) -> BillingRun:
    """Join the rollover or invoicing run `run_id` under way in another worker: claim its
    open chunks until none is left to claim (without waiting for those others hold), and
    add what this worker did to the run's counts."""
    with scopes_disabled():
        run = BillingRun.objects.get(pk=run_id)
        if run.kind == BillingRunKind.ROLLOVER:
            tally = RunTally.of(*ROLLOVER_COUNTS)
            tally.merge(rollover_chunks_work(run, deliver=deliver, wait=False))
        elif run.kind == BillingRunKind.INVOICING:
            tally = RunTally.of(*INVOICING_COUNTS)
            tally.merge(invoicing_chunks_work(run, deliver=deliver, wait=False))
        else:
            raise ValueError(f"A {run.kind} run has no chunks")
        return run_counts_add(run=run, tally=tally)


def overdue_run(*, day: date) -> BillingRun:
    """Mark the invoices whose due date is before `day` and that are unpaid as overdue."""
    with scopes_disabled():
        run = run_begin(kind=BillingRunKind.OVERDUE, run_date=day)
        tally = RunTally.of("marked_overdue")
        try:
            tally.add("marked_overdue", invoices_mark_overdue(on=day))
        except Exception as error:
            run_failed(run=run, tally=tally, error=error)
            raise
        return run_end(run=run, tally=tally)


def _seller_migrations(day: date) -> dict[str, int]:
    """Seller migration cohorts (DESIGN §3.5): notices due by `day` go out, and cohorts that
    start on `day` switch to the new seller before that day's renewals are ordered."""
    counts = {**seller_migrations_notify_due(on=day), **seller_migrations_apply(on=day)}
    return {f"seller_migration.{name}": amount for name, amount in counts.items()}


def invoicing_weekday() -> int:
    return settings.INVOICING_WEEKDAY


def first_day_due(*, up_to: date) -> date:
    """The day after the last finished rollover run, or `up_to` when there is none; never
    after `up_to` (the last day is always re-checked)."""
    with scopes_disabled():
        last = BillingRun.objects.filter(
            kind=BillingRunKind.ROLLOVER, status=BillingRunStatus.FINISHED
        ).aggregate(last=Max("run_date"))["last"]
    if last is None:
        return up_to
    return min(last + _ONE_DAY, up_to)


class FutureRunDate(ValueError):
    """A billing run asked for a day that has not come yet."""


def run_date_check(*, up_to: date) -> None:
    """A run may replay any past day and today, never a day after today: it would order
    renewals and issue invoices dated in the future (no undo). Raises `FutureRunDate`."""
    today = clock.today()
    if up_to > today:
        raise FutureRunDate(
            f"--date {up_to.isoformat()} is after today ({today.isoformat()}): a billing run "
            "cannot run a day that has not come yet"
        )


def billing_run(
    *,
    up_to: date,
    start: date | None = None,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
    planned: Callable[[BillingRun, int], None] | None = None,
) -> list[BillingRun]:
    """Run everything due from `start` (default `first_day_due(up_to)`) to `up_to`, day by
    day: rollover, the invoicing run on the invoicing weekday, overdue marking.
    `planned(run, chunks)` is called once each rollover and invoicing run is planned."""
    first = start if start is not None else first_day_due(up_to=up_to)
    if first > up_to:
        raise ValueError(f"--from {first.isoformat()} is after --date {up_to.isoformat()}")
    runs: list[BillingRun] = []
    day = first
    while day <= up_to:
        runs.append(
            rollover_run(
                on=day,
                deliver=deliver,
                batch_size=batch_size,
                before_renewals=_seller_migrations,
                planned=planned,
            )
        )
        if day.weekday() == invoicing_weekday():
            runs.append(
                invoicing_run(day=day, deliver=deliver, batch_size=batch_size, planned=planned)
            )
        runs.append(overdue_run(day=day))
        day += _ONE_DAY
    return runs
