"""Rollover and invoicing without PDFs (PERFORMANCE.md: ≥ 2,000 subscriptions/s on a 2-core
box, with a fixed number of queries per batch whatever the data size).

10,000 subscriptions (by default; `BENCH_SUBSCRIPTIONS`) are inserted in bulk, every one due
on Monday 2025-09-01: monthly, quarterly, half-yearly and yearly periods ending 2025-08-31,
in EUR, SEK and NOK, three editions, some with add-ons, an interface or extra storage, every
fifth with a seat decrease scheduled for that day. Then the day's rollover run and invoicing
run, timed separately, with deliveries off (no PDFs rendered, no e-mails queued).

Queries are counted with a statement hook (`connection.execute_wrapper`), which keeps no SQL
text, so counting costs nothing measurable; a rollover batch starts at its
`SELECT … FOR UPDATE SKIP LOCKED`, and the figure is the statements of each full batch.
Peak memory is the process's peak resident set (`ru_maxrss`) and its growth over the runs.
Both runs are single processes; the rollover can also run in several at once (they share the
due subscriptions with SKIP LOCKED).
"""

import os
import resource
import time

from bench.harness import bench_database

SUBSCRIPTIONS = int(os.environ.get("BENCH_SUBSCRIPTIONS", "10000"))


def _peak_rss_mb() -> float:
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
    from billing.periods import period_starting
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


def main() -> dict:
    with bench_database():
        import datetime

        from django.db import connection
        from django_scopes import scopes_disabled

        from billing.models import Invoice
        from billing.rollover import BATCH_SIZE, rollover_run
        from billing.runs import invoicing_run
        from subscriptions.models import OrderConfirmation

        day = datetime.date(2025, 9, 1)  # a Monday and a period start
        with scopes_disabled():
            started = time.perf_counter()
            _populate(SUBSCRIPTIONS, day)
            populate_s = time.perf_counter() - started
        rss_before = _peak_rss_mb()

        from severa import bulk

        bulk.statements = 0
        rollover_queries = _StatementCounter()
        with connection.execute_wrapper(rollover_queries):
            started, cpu = time.perf_counter(), time.process_time()
            rollover = rollover_run(day, deliver=False)
            rollover_s = time.perf_counter() - started
            rollover_cpu_s = time.process_time() - cpu
        rollover_queries.finish()
        bulk.statements = 0
        invoicing_queries = _StatementCounter()
        with connection.execute_wrapper(invoicing_queries):
            started, cpu = time.perf_counter(), time.process_time()
            invoicing = invoicing_run(day, deliver=False)
            invoicing_s = time.perf_counter() - started
            invoicing_cpu_s = time.process_time() - cpu
        invoicing_queries.finish()
        rss_after = _peak_rss_mb()

        with scopes_disabled():
            renewals = OrderConfirmation.objects.filter(renewal_period_start=day).count()
            invoices = Invoice.objects.count()
        assert renewals == rollover.counts["renewal_orders"] == SUBSCRIPTIONS, rollover.counts
        assert invoices == invoicing.counts["invoices"] == SUBSCRIPTIONS, invoicing.counts
        full_batches = [
            n
            for n, size in zip(
                rollover_queries.batches, _batch_sizes(SUBSCRIPTIONS, BATCH_SIZE), strict=False
            )
            if size == BATCH_SIZE
        ]
        return {
            "subscriptions": SUBSCRIPTIONS,
            "batch_size": BATCH_SIZE,
            "rollover_subscriptions_per_s": round(SUBSCRIPTIONS / rollover_s),
            "invoicing_subscriptions_per_s": round(SUBSCRIPTIONS / invoicing_s),
            "total_subscriptions_per_s": round(SUBSCRIPTIONS / (rollover_s + invoicing_s)),
            "rollover_s": round(rollover_s, 2),
            "invoicing_s": round(invoicing_s, 2),
            # This process's CPU (the database's is not included): on a shared, busy box the
            # wall-clock rates above move with the load, these much less.
            "rollover_cpu_ms_per_subscription": round(rollover_cpu_s * 1000 / SUBSCRIPTIONS, 3),
            "invoicing_cpu_ms_per_subscription": round(invoicing_cpu_s * 1000 / SUBSCRIPTIONS, 3),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "rollover_queries": rollover_queries.total,
            "rollover_queries_per_batch": sorted(set(full_batches)),
            "invoicing_queries": invoicing_queries.total,
            # Recipients are invoiced BATCH_SIZE at a time, each batch in one transaction per
            # seller (two sellers here).
            "invoicing_batches": len(_batch_sizes(SUBSCRIPTIONS, BATCH_SIZE)),
            "invoicing_queries_per_invoice": round(invoicing_queries.total / invoices, 3),
            "peak_rss_mb": round(rss_after, 1),
            "rss_growth_during_runs_mb": round(rss_after - rss_before, 1),
            "populate_s": round(populate_s, 2),
        }


def _batch_sizes(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]
