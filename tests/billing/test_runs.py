"""Billing runs (DESIGN §3.4): everything due up to a date, day by day — rollovers, the
weekly invoicing run, overdue marking — replayable with `manage.py billing_run --date`, and
exactly once through re-runs, concurrent runs and a worker killed mid-run.

Test catalog: Professional 30.00 EUR per seat per month; FI VAT 25.5 % since 2024-09-01.
"""

import datetime
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from billing.issuing import (
    INVOICING_COUNTS,
    invoice_draft,
    invoice_drafts_issue,
    invoices_issue,
    uninvoiced_orders,
)
from billing.models import (
    BillingRun,
    BillingRunChunk,
    BillingRunKind,
    BillingRunStatus,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceState,
)
from billing.rollover import rollover_run
from billing.run_records import RunTally, run_begin
from billing.runs import billing_run, run_help
from billing.tasks import daily_run
from severa import clock
from severa.celery import app
from subscriptions.models import Edition, OrderConfirmation, OrderKind, OrderLine, Price
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import (
    OrderConfirmationFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    TenantFactory,
    catalog_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date
MONDAY = 0
ROOT = Path(__file__).resolve().parents[2]


def _subscribe(*, start, months, seats=5, on=None, **kwargs):
    catalog_create()
    with clock.frozen(on or start):
        return subscription_create(
            tenant=kwargs.pop("tenant", None) or TenantFactory(),
            seller=kwargs.pop("seller", None) or SellerEntityFactory(),
            currency=kwargs.pop("currency", "EUR"),
            edition="professional",
            seats=seats,
            storage_gb=10,
            period_months=months,
            first_period_start=start,
            actor=None,
            **kwargs,
        )


def _kinds(runs):
    return [(run.kind, run.run_date) for run in runs]


def test_the_seed_seat_added_on_2025_06_05_is_invoiced_on_monday_2025_06_09():
    """Help centre: "if your billing period is 1.5.–31.7.2025 and you add a user on
    5.6.2025, the invoice will cover 5.6.–31.7.2025 for this new user", invoiced the week
    after the order confirmation."""
    subscription = _subscribe(start=D(2025, 5, 1), months=3, seats=5)
    billing_run(up_to=D(2025, 5, 1))
    billing_run(up_to=D(2025, 6, 4))
    # The activation (made on Thursday 2025-05-01) was invoiced on Monday 2025-05-05.
    [activation] = Invoice.objects.all()
    assert activation.invoice_date == D(2025, 5, 5)
    assert activation.net == Decimal("450.00")  # 30.00 × 3 months × 5 seats
    # Unpaid past its due date (2025-05-19), the overdue marking of 2025-05-20 caught it.
    activation.refresh_from_db()
    assert activation.status == InvoiceState.OVERDUE
    assert BillingRun.objects.get(kind="overdue", run_date=D(2025, 5, 20)).counts == {
        "marked_overdue": 1,
        "errors": 0,
    }

    with clock.frozen(D(2025, 6, 5)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=None)
        quote_confirm(quote=quote, actor=None)
    runs = billing_run(up_to=D(2025, 6, 9))

    assert _kinds(runs) == [
        *[
            item
            for day in (D(2025, 6, 5), D(2025, 6, 6), D(2025, 6, 7), D(2025, 6, 8))
            for item in (("rollover", day), ("overdue", day))
        ],
        ("rollover", D(2025, 6, 9)),
        ("invoicing", D(2025, 6, 9)),
        ("overdue", D(2025, 6, 9)),
    ]
    invoice = Invoice.objects.get(invoice_date=D(2025, 6, 9))
    [line] = invoice.lines.all()
    # 30.00 × 3 months × 1 seat × 57/92 days = 55.76
    assert (line.period_start, line.period_end) == (D(2025, 6, 5), D(2025, 7, 31))
    assert (line.unit_price, line.quantity, line.net) == (Decimal("30.00"), 1, Decimal("55.76"))
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("55.76"),
        Decimal("14.22"),
        Decimal("69.98"),
    )
    assert invoice.due_date == D(2025, 6, 23)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2]


def test_a_first_period_in_the_future_is_invoiced_by_the_first_run_on_or_after_its_start():
    """Provisioned on Wednesday 2025-05-07 with its first period 2025-08-01..2025-10-31: the
    activation is confirmed at once, and invoiced after the period has started (seed 001),
    not by the run of Monday 2025-05-12."""
    subscription = _subscribe(start=D(2025, 8, 1), months=3, seats=5, on=D(2025, 5, 7))
    [activation] = OrderConfirmation.objects.all()
    assert (activation.kind, activation.made_on) == (OrderKind.ACTIVATION, D(2025, 5, 7))
    assert (subscription.period_start, subscription.period_end) == (D(2025, 8, 1), D(2025, 10, 31))

    runs = billing_run(up_to=D(2025, 7, 31), start=D(2025, 5, 7), deliver=False)
    mondays = [run for run in runs if run.kind == "invoicing"]
    assert (mondays[0].run_date, mondays[-1].run_date) == (D(2025, 5, 12), D(2025, 7, 28))
    assert all(run.counts["invoices"] == 0 for run in mondays)
    assert not Invoice.objects.exists()

    billing_run(up_to=D(2025, 8, 4), deliver=False)
    [invoice] = Invoice.objects.all()
    # Friday 2025-08-01 starts the period; Monday 2025-08-04 is the first run on or after it.
    assert (invoice.invoice_date, invoice.due_date) == (D(2025, 8, 4), D(2025, 8, 18))
    [line] = invoice.lines.all()
    assert (line.order_number, line.period_start, line.period_end) == (
        activation.number,
        D(2025, 8, 1),
        D(2025, 10, 31),
    )
    # 30.00 × 3 months × 5 seats; VAT 25.5 %.
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("450.00"),
        Decimal("114.75"),
        Decimal("564.75"),
    )
    # The period's own start is no renewal: the activation ordered it.
    assert OrderConfirmation.objects.count() == 1


def test_the_invoicing_run_follows_the_configured_weekday(settings):
    settings.INVOICING_WEEKDAY = 2  # Wednesday
    _subscribe(start=D(2025, 5, 1), months=1)
    runs = billing_run(up_to=D(2025, 5, 11), start=D(2025, 5, 5))
    assert [run.run_date for run in runs if run.kind == "invoicing"] == [D(2025, 5, 7)]
    assert Invoice.objects.get().invoice_date == D(2025, 5, 7)


def test_a_billing_run_catches_up_from_the_day_after_the_last_finished_rollover():
    _subscribe(start=D(2025, 6, 1), months=1)
    # The first run ever does its own day only.
    assert _kinds(billing_run(up_to=D(2025, 6, 1))) == [
        ("rollover", D(2025, 6, 1)),
        ("overdue", D(2025, 6, 1)),
    ]
    runs = billing_run(up_to=D(2025, 6, 10))
    assert [run.run_date for run in runs if run.kind == "rollover"] == [
        D(2025, 6, day) for day in range(2, 11)
    ]
    assert [run.run_date for run in runs if run.kind == "invoicing"] == [
        D(2025, 6, 2),
        D(2025, 6, 9),
    ]
    # Caught up: the last day is re-checked, nothing is repeated.
    again = billing_run(up_to=D(2025, 6, 10))
    assert _kinds(again) == [("rollover", D(2025, 6, 10)), ("overdue", D(2025, 6, 10))]
    assert again[0].attempts == 2
    assert Invoice.objects.count() == 1


def test_a_finished_invoicing_run_run_again_issues_nothing_new():
    _subscribe(start=D(2025, 6, 1), months=1)
    first = billing_run(up_to=D(2025, 6, 2), start=D(2025, 6, 2))
    second = billing_run(up_to=D(2025, 6, 2), start=D(2025, 6, 2))
    invoicing = [run for run in second if run.kind == "invoicing"][0]
    assert invoicing.pk == [run for run in first if run.kind == "invoicing"][0].pk
    assert invoicing.attempts == 2
    assert invoicing.counts == {"orders": 1, "invoices": 1, "already_done": 0, "errors": 0}
    assert Invoice.objects.count() == 1


def test_a_tenant_that_cannot_be_invoiced_is_reported_and_the_others_are_invoiced():
    catalog_create()
    seller = SellerEntityFactory(bank_accounts=["EUR"])
    fine = OrderConfirmationFactory(tenant=TenantFactory(), made_on=D(2025, 6, 5))
    broken_tenant = TenantFactory()
    broken = OrderConfirmationFactory(
        tenant=broken_tenant,
        subscription=SubscriptionFactory(tenant=broken_tenant, seller=seller, currency="DKK"),
        currency="DKK",
        made_on=D(2025, 6, 5),
    )
    [run] = [
        r for r in billing_run(up_to=D(2025, 6, 9), start=D(2025, 6, 9)) if r.kind == "invoicing"
    ]
    assert run.counts == {"orders": 1, "invoices": 1, "already_done": 0, "errors": 1}
    assert run.errors == [
        {"tenant_id": broken.tenant_id, "message": f"{seller.name} has no bank account in DKK"}
    ]
    assert Invoice.objects.get().tenant_id == fine.tenant_id


def test_an_invoice_issued_alone_is_the_invoice_issued_in_a_batch():
    """A batch of one and the run's batch produce the same invoice for the same orders (SEK
    with cash rounding, a reverse-charged buyer and a domestic one)."""
    seller = SellerEntityFactory(
        country="SE", business_id="5560360793", vat_number="SE556036079301", cash_rounding=True
    )
    pairs = []
    for tenant_kwargs in (
        {"country": "SE", "business_id": "5567321707", "vat_number": "SE556732170701"},
        {"country": "FI", "business_id": "1572860-0", "vat_number": "FI15728600"},
    ):
        pair = []
        for _ in range(2):
            subscription = _subscribe(
                start=D(2025, 6, 1),
                months=3,
                seats=3,
                currency="SEK",
                seller=seller,
                tenant=TenantFactory(**tenant_kwargs),
            )
            pair.append(subscription.tenant)
        pairs.append(pair)
    day = D(2025, 6, 2)
    with clock.frozen(day):
        one_by_one = run_begin(kind=BillingRunKind.INVOICING, run_date=day)
        batched = run_begin(kind=BillingRunKind.INVOICING, run_date=day + datetime.timedelta(7))
        for single_tenant, _batched_tenant in pairs:
            orders = list(uninvoiced_orders(up_to=day).filter(tenant=single_tenant))
            draft = invoice_draft(orders=orders, invoice_date=day, billing_run=one_by_one)
            invoice_drafts_issue(
                seller=seller,
                drafts=[draft],
                tally=RunTally.of(*INVOICING_COUNTS),
                billing_run=one_by_one,
                deliver=False,
            )
        invoices_issue(billing_run=batched, invoice_date=day, deliver=False)

    fields = (
        "kind",
        "series",
        "status",
        "invoice_date",
        "due_date",
        "currency",
        "vat_note",
        "net",
        "vat",
        "rounding",
        "total",
        "seller_snapshot",
    )
    line_fields = (
        "position",
        "description",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "vat_category",
        "vat_rate",
        "net",
    )
    for single_tenant, batched_tenant in pairs:
        single = Invoice.objects.get(tenant=single_tenant)
        twin = Invoice.objects.get(tenant=batched_tenant)
        assert [getattr(single, f) for f in fields] == [getattr(twin, f) for f in fields]
        assert {k: v for k, v in single.buyer_snapshot.items() if k != "name"} == {
            k: v for k, v in twin.buyer_snapshot.items() if k != "name"
        }
        assert [[getattr(line, f) for f in line_fields] for line in single.lines.all()] == [
            [getattr(line, f) for f in line_fields] for line in twin.lines.all()
        ]
    # One series, numbered without gaps across both writers.
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert [i.rounding != 0 for i in Invoice.objects.order_by("number")].count(True) >= 1


def test_the_command_prints_one_json_line_per_run_and_fails_on_errors():
    catalog_create()
    enterprise = Price.objects.get(edition__code="enterprise", currency="EUR")
    enterprise.valid_until = D(2025, 7, 31)
    enterprise.save()
    SubscriptionFactory()
    stuck = SubscriptionFactory(edition=Edition.objects.get(code="enterprise"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 run"):
        call_command("billing_run", "--date", "2025-08-01", "--no-delivery", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["kind"], line["run_date"]) for line in lines] == [
        ("rollover", "2025-08-01"),
        ("overdue", "2025-08-01"),
    ]
    assert lines[0]["counts"]["renewed"] == 1
    assert lines[0]["errors"][0]["tenant_id"] == stuck.tenant_id
    assert lines[0]["status"] == "finished"
    with pytest.raises(CommandError, match="--from must not be after --date"):
        call_command("billing_run", "--date", "2025-08-01", "--from", "2025-08-02")


def test_the_command_refuses_a_date_after_today_with_exit_status_2_and_runs_nothing():
    SubscriptionFactory()
    with clock.frozen(D(2025, 8, 1)), pytest.raises(CommandError) as refused:
        call_command("billing_run", "--date", "2025-08-02", "--no-delivery", stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert str(refused.value) == (
        "--date 2025-08-02 is after today (2025-08-01): a billing run cannot run a day that "
        "has not come yet"
    )
    assert not BillingRun.objects.exists()
    # Today and a replay of a past day stay allowed.
    out = io.StringIO()
    with clock.frozen(D(2025, 8, 1)):
        call_command("billing_run", "--date", "2025-07-31", "--no-delivery", stdout=out)
        call_command("billing_run", "--date", "2025-08-01", "--no-delivery", stdout=out)
    assert [json.loads(line)["run_date"] for line in out.getvalue().splitlines()] == [
        "2025-07-31",
        "2025-07-31",
        "2025-08-01",
        "2025-08-01",
    ]


def test_the_daily_task_runs_everything_due_up_to_today_and_is_scheduled_at_3_in_helsinki():
    _subscribe(start=D(2025, 5, 1), months=1)
    with clock.frozen(D(2025, 6, 2)):
        summaries = daily_run.apply().get()
    assert [(s["kind"], s["run_date"]) for s in summaries] == [
        ("rollover", "2025-06-02"),
        ("invoicing", "2025-06-02"),
        ("overdue", "2025-06-02"),
    ]
    assert summaries[0]["counts"]["renewed"] == 1
    # The activation and the June renewal, on one invoice.
    assert summaries[1]["counts"]["invoices"] == 1
    assert daily_run.acks_late is True
    entry = app.conf.beat_schedule["billing-daily-run"]
    assert entry["task"] == "billing.daily_run"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {0})
    assert app.conf.timezone == "Europe/Helsinki"
    assert settings.INVOICING_WEEKDAY == MONDAY


def test_replaying_a_year_of_demo_data_renews_each_period_once_and_invoices_each_monday():
    """The demo tenants (monthly SEK, quarterly EUR, yearly NOK, all from the Finnish seller)
    subscribed on 2025-01-15 for periods starting in February, March and April; the command
    replays until 2026-02-28, and a second replay changes nothing."""
    from partners.demo import demo_everything as demo_seed

    with clock.frozen(D(2025, 1, 15)):
        demo_seed()
    replay = ["billing_run", "--date", "2026-02-28", "--from", "2025-01-16", "--no-delivery"]
    call_command(*replay, stdout=io.StringIO())

    renewals = defaultdict(list)
    for order in OrderConfirmation.objects.filter(kind=OrderKind.RENEWAL).select_related(
        "subscription"
    ):
        renewals[order.subscription.period_months].append(order.renewal_period_start)
    assert sorted(renewals[1]) == [D(2025, month, 1) for month in range(4, 13)] + [
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert sorted(renewals[3]) == [D(2025, 5, 1), D(2025, 8, 1), D(2025, 11, 1), D(2026, 2, 1)]
    assert renewals[12] == []
    # Every order line is invoiced exactly once, on the first Monday on or after its order
    # and its period's start (the activations of 2025-01-15 wait for their first periods).
    lines = OrderLine.objects.select_related("order", "invoice_line__invoice")
    assert lines.count() == InvoiceLine.objects.count()
    for line in lines:
        invoice_date = line.invoice_line.invoice.invoice_date
        assert invoice_date.weekday() == MONDAY
        assert 0 <= (invoice_date - max(line.order.made_on, line.period_start)).days < 7
    activations = {
        (line.order.subscription.period_months, line.invoice_line.invoice.invoice_date)
        for line in lines
        if line.order.kind == OrderKind.ACTIVATION
    }
    # Monthly from Saturday 2025-03-01, quarterly from Saturday 2025-02-01, yearly from
    # Tuesday 2025-04-01: each invoiced on the Monday on or after.
    assert activations == {
        (1, D(2025, 3, 3)),
        (3, D(2025, 2, 3)),
        (12, D(2025, 4, 7)),
    }
    # At most one invoice per tenant per Monday, numbered without gaps.
    invoices = list(Invoice.objects.values_list("tenant_id", "invoice_date"))
    assert len(invoices) == len(set(invoices))
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))

    counts = (OrderConfirmation.objects.count(), Invoice.objects.count())
    call_command(*replay, stdout=io.StringIO())
    assert (OrderConfirmation.objects.count(), Invoice.objects.count()) == counts


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.mark.serial  # a real worker process, killed once its first invoices are committed
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_a_gap_free_prefix_and_the_next_run_finishes_once():
    """300 tenants to invoice on Monday 2025-09-01. `manage.py billing_run` runs in a
    separate process against the test database, invoicing a chunk of three tenants per
    transaction; it is killed with SIGKILL once some invoices exist. Two workers then share
    the rest of the chunks and issue the rest, once."""
    catalog_create()
    seller = SellerEntityFactory()
    tenants = 300
    professional = Edition.objects.get(code="professional")
    for _ in range(tenants):
        SubscriptionFactory(
            seller=seller,
            edition=professional,
            period_start=D(2025, 6, 1),
            period_end=D(2025, 8, 31),
        )
    day = D(2025, 9, 1)
    rollover_run(on=day, deliver=False)

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "severa.settings.test",
        "DATABASE_URL": _database_url(),
        "CACHE_KEY_PREFIX": f"severa-test-killed-{os.getpid()}",
    }
    command = [sys.executable, "manage.py", "billing_run", "--date", "2025-09-01"]
    command += ["--from", "2025-09-01", "--no-delivery", "--batch-size", "3"]
    worker = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not Invoice.objects.exists():
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "no invoice within two minutes"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    partial = Invoice.objects.count()
    print(f"killed with {partial} of {tenants} invoices issued")  # the figure this test reports
    assert 0 < partial < tenants
    # What was committed is a gap-free prefix of the series.
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, partial + 1))
    assert InvoiceCounter.objects.get(seller=seller).next_number == partial + 1
    killed = BillingRun.objects.get(kind="invoicing", run_date=day)
    assert (killed.status, killed.attempts) == (BillingRunStatus.RUNNING, 1)

    # The killed worker's chunks are open again; two workers finish them: a helper joining
    # the run and the next billing run.
    assert BillingRunChunk.objects.filter(run=killed, status="open").exists()
    helped = []

    def helper():
        try:
            helped.append(run_help(run_id=killed.pk, deliver=False))
        finally:
            connection.close()

    thread = threading.Thread(target=helper)
    thread.start()
    billing_run(up_to=day, start=day, deliver=False)
    thread.join()
    assert len(helped) == 1

    invoicing = BillingRun.objects.get(kind="invoicing", run_date=day)
    assert (invoicing.status, invoicing.attempts) == (BillingRunStatus.FINISHED, 2)
    # 300 tenants, three per chunk: every chunk done once.
    assert list(BillingRunChunk.objects.filter(run=invoicing).values_list("status", flat=True)) == (
        ["done"] * 100
    )
    # The killed attempt's own counts died with it; its invoices did not.
    assert invoicing.counts["invoices"] == tenants - partial
    assert Invoice.objects.count() == tenants
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, tenants + 1))
    assert Invoice.objects.values("tenant_id").distinct().count() == tenants
    assert InvoiceLine.objects.count() == OrderLine.objects.count()
    assert InvoiceCounter.objects.get(seller=seller).next_number == tenants + 1


def test_the_invoicing_run_reads_only_the_orders_not_invoiced_yet():
    """The run's queue is the orders with a charge not invoiced yet, found through the
    partial index `order_to_invoice`: invoiced orders leave it in the issuing transaction,
    so a run reads the week's orders, not the history."""
    subscription = _subscribe(start=D(2025, 5, 1), months=1, seats=2)
    billing_run(up_to=D(2025, 6, 2), start=D(2025, 5, 1))
    # The activation (May) and the June renewal, invoiced on 2025-05-05 and 2025-06-02.
    assert list(
        OrderConfirmation.objects.order_by("made_on").values_list("made_on", "invoiced")
    ) == [(D(2025, 5, 1), True), (D(2025, 6, 1), True)]
    with clock.frozen(D(2025, 6, 5)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=3), actor=None)
        quote_confirm(quote=quote, actor=None)
    assert list(uninvoiced_orders(up_to=D(2025, 6, 9)).values_list("made_on", flat=True)) == [
        D(2025, 6, 5)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = (
            uninvoiced_orders(up_to=D(2025, 6, 9))
            .prefetch_related(None)
            .select_related(None)
            .values_list("pk")
            .query.sql_with_params()
        )
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_to_invoice" in plan
    billing_run(up_to=D(2025, 6, 9))
    assert not OrderConfirmation.objects.filter(invoiced=False).exists()
    # 30.00 × 1 seat × 26/30 days (2025-06-05..30) = 26.00
    assert Invoice.objects.get(invoice_date=D(2025, 6, 9)).net == Decimal("26.00")
