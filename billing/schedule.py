"""The billing schedule as operators read it: when the daily run comes, which day is
invoiced next, how far the runs have got, and each run's counts in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import BillingRun, BillingRunKind, BillingRunStatus
from billing.runs import first_day_due, invoicing_weekday
from billing.tasks import daily_run


def daily_run_at() -> time:
    """The local time the beat starts the daily run (CELERY_BEAT_SCHEDULE, a crontab)."""
    schedule = settings.CELERY_BEAT_SCHEDULE["billing-daily-run"]["schedule"]
    return time(min(schedule.hour), min(schedule.minute))


# "Run now" queues today's run once in this many seconds, however often it is pressed.
RUN_NOW_GUARD_SECONDS = 10 * 60


@dataclass(frozen=True)
class BillingSchedule:
    today: date
    next_daily_run: datetime
    next_invoicing_day: date
    # The first day the next run does (today when nothing is behind).
    first_day_due: date
    last_runs: list[BillingRun]

    @property
    def days_behind(self) -> int:
        return max(0, (self.today - self.first_day_due).days)


def billing_schedule(*, now: datetime, last_runs: int = 6) -> BillingSchedule:
    """The schedule seen at `now` (aware)."""
    local = timezone.localtime(now)
    today = local.date()
    run_today = timezone.make_aware(datetime.combine(today, daily_run_at()))
    next_run = run_today if local < run_today else run_today + timedelta(days=1)
    days_to_invoicing = (invoicing_weekday() - today.weekday()) % 7
    invoicing_day = today + timedelta(days=days_to_invoicing)
    if (
        days_to_invoicing == 0
        and BillingRun.objects.filter(
            kind=BillingRunKind.INVOICING, run_date=today, status=BillingRunStatus.FINISHED
        ).exists()
    ):
        invoicing_day += timedelta(days=7)
    return BillingSchedule(
        today=today,
        next_daily_run=next_run,
        next_invoicing_day=invoicing_day,
        first_day_due=first_day_due(up_to=today),
        last_runs=list(BillingRun.objects.order_by("-started_at", "-pk")[:last_runs]),
    )


def run_counts_in_words(*, run: BillingRun) -> list[str]:
    """``{"invoices": 3, "orders": 5}`` → ["5 orders invoiced", "3 invoices issued"]; counts
    of 0 are left out."""
    phrases = {
        "subscriptions": lambda n: ngettext(
            "%(count)s subscription examined", "%(count)s subscriptions examined", n
        ),
        "renewed": lambda n: ngettext(
            "%(count)s subscription renewed", "%(count)s subscriptions renewed", n
        ),
        "renewal_orders": lambda n: ngettext(
            "%(count)s renewal order", "%(count)s renewal orders", n
        ),
        "changes_applied": lambda n: ngettext(
            "%(count)s scheduled change applied", "%(count)s scheduled changes applied", n
        ),
        "terminated": lambda n: ngettext(
            "%(count)s subscription ended", "%(count)s subscriptions ended", n
        ),
        "already_done": lambda n: ngettext("%(count)s already done", "%(count)s already done", n),
        "orders": lambda n: ngettext("%(count)s order invoiced", "%(count)s orders invoiced", n),
        "invoices": lambda n: ngettext("%(count)s invoice issued", "%(count)s invoices issued", n),
        "marked_overdue": lambda n: ngettext(
            "%(count)s invoice marked overdue", "%(count)s invoices marked overdue", n
        ),
        # Seller migrations (billing/runs.py `_seller_migrations`).
        "seller_migration.migrations_notified": lambda n: ngettext(
            "%(count)s seller migration notified", "%(count)s seller migrations notified", n
        ),
        "seller_migration.tenants_notified": lambda n: ngettext(
            "%(count)s company told of its new seller",
            "%(count)s companies told of their new seller",
            n,
        ),
        "seller_migration.switched": lambda n: ngettext(
            "%(count)s subscription moved to its new seller",
            "%(count)s subscriptions moved to their new seller",
            n,
        ),
        "seller_migration.skipped": lambda n: ngettext(
            "%(count)s subscription left with its seller",
            "%(count)s subscriptions left with their seller",
            n,
        ),
        "seller_migration.migrations_done": lambda n: ngettext(
            "%(count)s seller migration completed", "%(count)s seller migrations completed", n
        ),
        "seller_migration.not_notified": lambda n: ngettext(
            "%(count)s subscription not moved: its company was not told",
            "%(count)s subscriptions not moved: their companies were not told",
            n,
        ),
    }
    words = []
    for name, value in (run.counts or {}).items():
        if not value:
            continue
        phrase = phrases.get(name)
        if phrase is None:
            words.append(f"{name}: {value}")
        else:
            words.append(phrase(value) % {"count": value})
    return words


def run_now_queue(*, today: date) -> bool:
    """Queue the daily run for `today` through Celery, unless it was queued in the last
    `RUN_NOW_GUARD_SECONDS`; the run itself does nothing twice (billing/runs.py). True when
    queued now."""

    key = f"billing:run-now:{today.isoformat()}"
    if not cache.add(key, 1, RUN_NOW_GUARD_SECONDS):
        return False
    try:
        daily_run.delay()
    except Exception:
        cache.delete(key)  # not queued: the next press tries again
        raise
    return True


def schedule_in_words() -> str:
    weekday = [
        _("Mondays"),
        _("Tuesdays"),
        _("Wednesdays"),
        _("Thursdays"),
        _("Fridays"),
        _("Saturdays"),
        _("Sundays"),
    ][invoicing_weekday()]
    return _(
        "Every night at %(time)s (%(zone)s) the billing run renews the subscriptions whose "
        "period ends, applies the changes scheduled for the new period and marks unpaid "
        "invoices past their due date as overdue. On %(weekday)s it also issues the invoices "
        "of the orders confirmed so far. A day missed is caught up by the next run, and a day "
        "run again does nothing twice."
    ) % {"time": daily_run_at().strftime("%H:%M"), "zone": settings.TIME_ZONE, "weekday": weekday}
