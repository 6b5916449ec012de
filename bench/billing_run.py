"""Rollover and invoicing without PDFs, on one worker and on two (PERFORMANCE.md: ≥ 2,000
subscriptions/s on a 2-core box, with a fixed number of statements per batch whatever the
data size).

`BENCH_SUBSCRIPTIONS` (10,000 by default) subscriptions are inserted in bulk, every one due
on Monday 2025-09-01: monthly, quarterly, half-yearly and yearly periods ending 2025-08-31,
in EUR, SEK and NOK, three editions, some with add-ons, an interface or extra storage, every
fifth with a seat decrease scheduled for that day. Then the day's rollover run and invoicing
run, timed separately, with deliveries off (no PDFs rendered, no e-mails queued):

1. in one worker process (a fresh process, as a Celery worker is: its CPU time, statements
   and peak memory are the run's alone);
2. the same data again (the tables emptied and filled anew) in two worker processes started
   together, sharing the runs' chunks (`billing.chunks`).

Statements are counted with a statement hook (`connection.execute_wrapper`), which keeps no
SQL text, so counting costs nothing measurable; a batch starts at its chunk claim
(`SELECT … FOR UPDATE SKIP LOCKED`), and the figure is the statements of a full batch. The
machine is shared: `load_before` is the 1-minute load average when the benchmark started, and
the CPU time per subscription moves much less with the load than the rates do.
"""

import os
import resource
import time

from bench.harness import bench_database

SUBSCRIPTIONS = int(os.environ.get("BENCH_SUBSCRIPTIONS", "10000"))


def _peak_rss_mb() -> float:
    """This process's peak resident set. `ru_maxrss` would not do in a spawned worker: Linux
    carries it over `exec` from the forked copy of the parent (whose peak is the data set
    it inserted), so the figure would grow with the data for nothing the worker did; the
    `VmHWM` of /proc/self/status is the peak of this program's own memory."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class _StatementCounter:
    """Counts statements; a new rollover batch begins at its locking SELECT. COPY statements
    bypass Django's execute wrappers: `severa.bulk` counts them, and each one is added to the
    batch it belongs to."""

    def __init__(self) -> None:
        self.total = 0
        self.batches: list[int] = []
        self._copies_seen = 0

    def _catch_up_copies(self) -> None:
        from severa import bulk

        copies = bulk.statements // 2 - self._copies_seen
        self._copies_seen += copies
        self.total += copies
        if self.batches:
            self.batches[-1] += copies

    def __call__(self, execute, sql, params, many, context):
        self._catch_up_copies()
        self.total += 1
        if "SKIP LOCKED" in sql:
            self.batches.append(0)
        if self.batches:
            self.batches[-1] += 1
        return execute(sql, params, many, context)

    def finish(self) -> None:
        self._catch_up_copies()


def _populate(count: int, day) -> None:
    import datetime

    from django.utils import timezone

    from accounts.models import Tenant
    from billing.models import BillingDetails
    from severa.periods import period_starting
    from subscriptions.models import ChangeKind, Edition, ScheduledChange, Subscription
    from tests.factories import SellerEntityFactory, catalog_create

    catalog_create()
    sellers = [SellerEntityFactory(), SellerEntityFactory(country="SE", vat_number="SE5560360793")]
    editions = {edition.code: edition for edition in Edition.objects.all()}
    now = timezone.now()
    countries = [("FI", "FI15728600", "EUR"), ("SE", "SE556036079301", "SEK"), ("NO", "", "NOK")]
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Bench company {index}",
            country=countries[index % 3][0],
            vat_number=countries[index % 3][1],
            business_id="",
        )
        for index in range(count)
    )
    BillingDetails.objects.bulk_create(
        BillingDetails(
            tenant=tenant,
            street_address="Street 1",
            postal_code="00100",
            city="City",
            country=tenant.country,
            updated_at=now,
        )
        for tenant in tenants[::2]
    )
    subscriptions = []
    for index, tenant in enumerate(tenants):
        months = (1, 3, 6, 12)[index % 4]
        start = day
        for _ in range(months):
            start = (start - datetime.timedelta(days=1)).replace(day=1)
        period = period_starting(start, months)
        edition = ("professional", "business", "enterprise")[index % 3]
        subscriptions.append(
            Subscription(
                tenant=tenant,
                seller=sellers[index % 2],
                currency=countries[index % 3][2],
                edition=editions[edition],
                seats=5 + index % 40,
                storage_gb=(10, 50, 100, 500)[index % 4] if edition != "enterprise" else 100,
                add_ons=["travel-expenses"] if index % 2 else [],
                interfaces=["fortnox"] if index % 5 == 0 else [],
                period_months=months,
                period_start=period.start,
                period_end=period.end,
            )
        )
    subscriptions = Subscription.objects.bulk_create(subscriptions, batch_size=2000)
    ScheduledChange.objects.bulk_create(
        (
            ScheduledChange(
                tenant_id=subscription.tenant_id,
                subscription=subscription,
                kind=ChangeKind.SEATS,
                value=str(subscription.seats - 1),
                description="Seats down by one",
                effective_date=day,
                created_at=now,
            )
            for subscription in subscriptions[::5]
        ),
        batch_size=2000,
    )


_RESET = (
    "TRUNCATE accounts_tenant, billing_billingrun, billing_invoicecounter, "
    "billing_sellerbankaccount, billing_sellerentity RESTART IDENTITY CASCADE"
)


def _worker(database: str, day, start, results, *, count_statements: bool) -> None:
    """One worker process: the day's rollover run, then its invoicing run (after `start`, a
    barrier the workers pass together)."""
    import gc

    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database
    from billing.rollover import rollover_run
    from billing.runs import invoicing_run
    from severa import bulk

    connection.ensure_connection()
    gc.collect()
    counters = {"rollover": _StatementCounter(), "invoicing": _StatementCounter()}
    timings = {}
    start.wait()
    for kind, job in (("rollover", rollover_run), ("invoicing", invoicing_run)):
        bulk.statements = 0
        counter = counters[kind]
        wrapper = connection.execute_wrapper(counter) if count_statements else _nothing()
        with wrapper:
            began, cpu = time.monotonic(), time.process_time()
            run = job(day, deliver=False)
            timings[kind] = (began, time.monotonic(), time.process_time() - cpu, run.counts)
        counter.finish()
    results.put(
        {
            "timings": timings,
            "batches": {kind: counter.batches for kind, counter in counters.items()},
            "peak_rss_mb": _peak_rss_mb(),
        }
    )


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _workers(database: str, day, count: int) -> list[dict]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(count)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(database, day, start, results),
            kwargs={"count_statements": count == 1},
        )
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
        assert process.exitcode == 0, process.exitcode
    return outcome


def _span(outcome: list[dict], kind: str) -> float:
    """Wall-clock seconds of a run across workers: first start to last end."""
    starts = [worker["timings"][kind][0] for worker in outcome]
    ends = [worker["timings"][kind][1] for worker in outcome]
    return max(ends) - min(starts)


def _analyze() -> None:
    """Fresh planner statistics for the data just inserted, as a live database has them
    (else the second phase would plan with the first phase's, taken of other rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _check(day) -> None:
    from django_scopes import scopes_disabled

    from billing.models import Invoice
    from subscriptions.models import OrderConfirmation

    with scopes_disabled():
        renewals = OrderConfirmation.objects.filter(renewal_period_start=day).count()
        invoices = Invoice.objects.count()
        numbers = Invoice.objects.values_list("seller_id", "number")
        per_seller: dict[int, list[int]] = {}
        for seller_id, number in numbers:
            per_seller.setdefault(seller_id, []).append(number)
    assert renewals == invoices == SUBSCRIPTIONS, (renewals, invoices)
    for seller_numbers in per_seller.values():
        assert sorted(seller_numbers) == list(range(1, len(seller_numbers) + 1))


def main() -> dict:
    load_before = os.getloadavg()[0]
    with bench_database():
        import datetime

        from django.db import connection
        from django_scopes import scopes_disabled

        from billing.chunks import chunked
        from billing.rollover import BATCH_SIZE

        database = connection.settings_dict["NAME"]
        day = datetime.date(2025, 9, 1)  # a Monday and a period start
        with scopes_disabled():
            started = time.perf_counter()
            _populate(SUBSCRIPTIONS, day)
            populate_s = time.perf_counter() - started
        _analyze()
        connection.close()
        [one] = _workers(database, day, 1)
        _check(day)

        with scopes_disabled():
            with connection.cursor() as cursor:
                cursor.execute(_RESET)
            _populate(SUBSCRIPTIONS, day)
        _analyze()
        connection.close()
        two = _workers(database, day, 2)
        _check(day)

    rollover_s = _span([one], "rollover")
    invoicing_s = _span([one], "invoicing")
    cpu_s = one["timings"]["rollover"][2] + one["timings"]["invoicing"][2]
    rollover_2_s = _span(two, "rollover")
    invoicing_2_s = _span(two, "invoicing")
    combined_2_s = max(w["timings"]["invoicing"][1] for w in two) - min(
        w["timings"]["rollover"][0] for w in two
    )
    full = len(
        [size for size in map(len, chunked(range(SUBSCRIPTIONS), BATCH_SIZE)) if size == BATCH_SIZE]
    )
    # The first batch of a run also reads what the run keeps for the others (price books,
    # sellers, counters): reported apart; every later full batch should be the same figure.
    statements = {
        kind: sorted(set(one["batches"][kind][1:full])) for kind in ("rollover", "invoicing")
    }
    first_batch = {kind: one["batches"][kind][0] for kind in ("rollover", "invoicing")}
    return {
        "subscriptions": SUBSCRIPTIONS,
        "batch_size": BATCH_SIZE,
        "rollover_per_s": round(SUBSCRIPTIONS / rollover_s),
        "invoicing_per_s": round(SUBSCRIPTIONS / invoicing_s),
        "combined_per_s": round(SUBSCRIPTIONS / (rollover_s + invoicing_s)),
        "combined_per_s_2_workers": round(SUBSCRIPTIONS / combined_2_s),
        "two_workers_speedup_rollover": round(rollover_s / rollover_2_s, 2),
        "two_workers_speedup_invoicing": round(invoicing_s / invoicing_2_s, 2),
        # The worker's own CPU (the database's is not included).
        "cpu_ms_per_subscription": round(cpu_s * 1000 / SUBSCRIPTIONS, 3),
        "rollover_cpu_ms_per_subscription": round(
            one["timings"]["rollover"][2] * 1000 / SUBSCRIPTIONS, 3
        ),
        "invoicing_cpu_ms_per_subscription": round(
            one["timings"]["invoicing"][2] * 1000 / SUBSCRIPTIONS, 3
        ),
        # Statements of each full batch (one value when flat), per run.
        "statements_per_batch": statements,
        "statements_first_batch": first_batch,
        "peak_rss_mb": round(one["peak_rss_mb"], 1),
        "peak_rss_mb_2_workers": round(max(w["peak_rss_mb"] for w in two), 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "populate_s": round(populate_s, 2),
    }
