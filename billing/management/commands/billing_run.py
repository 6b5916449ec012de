import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from billing.rollover import BATCH_SIZE
from billing.run_records import run_summary
from billing.runs import FutureRunDate, billing_run, run_date_check


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Run everything due up to --date (rollovers, the weekly invoicing run, overdue "
        "marking), day by day from the day after the last finished rollover run or --from. "
        "--date may be today or a past day (a replay), never a day after today. "
        "Prints one JSON line per run; exits non-zero when a run recorded errors."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", required=True, type=_day, help="last day, YYYY-MM-DD")
        parser.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD")
        parser.add_argument(
            "--no-delivery",
            action="store_true",
            help="issue without rendering or e-mailing documents (replays, benchmarks)",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["start"] is not None and options["start"] > options["date"]:
            raise CommandError("--from must not be after --date")
        try:
            run_date_check(up_to=options["date"])
        except FutureRunDate as error:
            raise CommandError(str(error), returncode=2) from None
        runs = billing_run(
            up_to=options["date"],
            start=options["start"],
            deliver=not options["no_delivery"],
            batch_size=options["batch_size"],
        )
        failed = 0
        for run in runs:
            self.stdout.write(json.dumps(run_summary(run=run)))
            failed += bool(run.errors)
        if failed:
            raise CommandError(f"{failed} run(s) recorded errors")
