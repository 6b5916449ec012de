"""The period rollover (DESIGN §3.2–§3.4) on real rows: scheduled decreases and terminations
take effect on the new period's first day, the renewal orders the whole period at that day's
prices, missed periods are caught up, and nothing is ever renewed twice.

Test catalog (tests.factories): Professional 30.00 EUR per seat per month, Business 46.00,
Enterprise 70.00; Travel and expenses 3.00 per seat per month; Fortnox 49.00; 50 GB 20.00.
"""

import datetime
import threading
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django_scopes import scopes_disabled

from billing.models import BillingRun, BillingRunChunk, BillingRunStatus, Invoice
from billing.rollover import RolloverError, rollover_run, subscription_rollover
from billing.runs import invoicing_run
from severa import clock
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    Edition,
    OrderConfirmation,
    OrderKind,
    Price,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import (
    BillingContactFactory,
    OrderConfirmationFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    TenantFactory,
    catalog_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

D = datetime.date
NOTHING_DUE = {
    "subscriptions": 0,
    "renewed": 0,
    "renewal_orders": 0,
    "changes_applied": 0,
    "terminated": 0,
    "already_done": 0,
    "errors": 0,
}


def counts(**figures):
    return {**NOTHING_DUE, **figures}


def _prices_in_2013(*, professional_from_september: str) -> None:
    """The test catalog's prices back to 2013 (the factories price from 2020), with
    Professional in EUR at 30.00 until 2013-08-31 and at another price from 2013-09-01."""
    catalog_create()
    for price in list(Price.objects.filter(valid_from=D(2020, 1, 1))):
        is_professional_eur = price.edition_id is not None and price.currency == "EUR"
        is_professional_eur = is_professional_eur and price.edition.code == "professional"
        for valid_from, valid_until, amount in (
            (D(2013, 1, 1), D(2013, 8, 31), price.amount_per_month),
            (
                D(2013, 9, 1),
                D(2019, 12, 31),
                Decimal(professional_from_september)
                if is_professional_eur
                else price.amount_per_month,
            ),
        ):
            Price.objects.create(
                edition=price.edition,
                add_on=price.add_on,
                interface=price.interface,
                storage_tier=price.storage_tier,
                currency=price.currency,
                amount_per_month=amount,
                valid_from=valid_from,
                valid_until=valid_until,
            )


def _subscribe(*, start, months, on=None, seats=10, **kwargs):
    catalog_create()
    tenant = kwargs.pop("tenant", None) or TenantFactory()
    with clock.frozen(on or start):
        return subscription_create(
            tenant=tenant,
            seller=kwargs.pop("seller", None) or SellerEntityFactory(),
            currency=kwargs.pop("currency", "EUR"),
            edition=kwargs.pop("edition", "professional"),
            seats=seats,
            storage_gb=kwargs.pop("storage_gb", 10),
            period_months=months,
            first_period_start=start,
            actor=None,
            **kwargs,
        )


def _renewals(subscription):
    return list(
        OrderConfirmation.objects.filter(
            subscription=subscription, kind=OrderKind.RENEWAL
        ).order_by("renewal_period_start")
    )


def test_the_seed_decrease_made_on_2013_08_31_applies_on_2013_09_01(
    django_capture_on_commit_callbacks,
):
    """Help centre: "If payment period is 1.3.2013 - 31.8.2013, changes must be done latest
    at 31.8.2013 to effect the new order confirmation that will be automatically created
    1.9.2013." Six-month periods; Professional goes from 30.00 to 32.00 on 2013-09-01."""
    _prices_in_2013(professional_from_september="32.00")
    subscription = _subscribe(
        start=D(2013, 3, 1),
        months=6,
        seats=10,
        storage_gb=50,
        add_ons=frozenset({"travel-expenses"}),
        interfaces=frozenset({"fortnox"}),
    )
    BillingContactFactory(tenant=subscription.tenant, email="ap@example.test")
    with clock.frozen(D(2013, 8, 31)):
        quote = quote_create(
            subscription=subscription,
            desired=Desired(seats=6, storage_gb=10, interfaces=frozenset()),
            actor=None,
        )
        quote_confirm(quote=quote, actor=None)
    changes = list(ScheduledChange.objects.filter(subscription=subscription))
    assert {(c.kind, c.value, c.effective_date) for c in changes} == {
        (ChangeKind.SEATS, "6", D(2013, 9, 1)),
        (ChangeKind.STORAGE, "10", D(2013, 9, 1)),
        (ChangeKind.INTERFACE, "fortnox", D(2013, 9, 1)),
    }
    # The day before the new period nothing is due.
    with clock.frozen(D(2013, 8, 31)):
        assert rollover_run(on=D(2013, 8, 31)).counts == NOTHING_DUE
    version = Subscription.objects.get(pk=subscription.pk).version

    mail.outbox = []
    with clock.frozen(D(2013, 9, 1)), django_capture_on_commit_callbacks(execute=True):
        run = rollover_run(on=D(2013, 9, 1))

    assert run.status == BillingRunStatus.FINISHED
    assert run.counts == counts(subscriptions=1, renewed=1, renewal_orders=1, changes_applied=3)
    subscription.refresh_from_db()
    assert (subscription.period_start, subscription.period_end) == (D(2013, 9, 1), D(2014, 2, 28))
    assert (subscription.seats, subscription.storage_gb) == (6, 10)
    assert subscription.interfaces == []
    assert subscription.add_ons == ["travel-expenses"]
    assert subscription.version == version + 1
    for change in ScheduledChange.objects.filter(subscription=subscription):
        assert change.status == ChangeStatus.APPLIED
        assert change.closed_at.date() == D(2013, 9, 1)

    [renewal] = _renewals(subscription)
    assert renewal.renewal_period_start == D(2013, 9, 1)
    assert renewal.made_on == D(2013, 9, 1)
    assert renewal.number == f"{subscription.tenant_id}-0003"  # activation, change, renewal
    lines = list(renewal.lines.all())
    assert [(line.item_code, line.unit_price, line.quantity, line.net) for line in lines] == [
        # 32.00 (the price from 2013-09-01) × 6 months × 6 seats
        ("professional", Decimal("32.00"), 6, Decimal("1152.00")),
        # 3.00 × 6 months × 6 seats
        ("travel-expenses", Decimal("3.00"), 6, Decimal("108.00")),
    ]
    assert {(line.period_start, line.period_end) for line in lines} == {
        (D(2013, 9, 1), D(2014, 2, 28))
    }
    # FI seller to a FI business in 2013: 24 % on 1260.00 = 302.40.
    assert (renewal.net, renewal.vat_rate, renewal.vat, renewal.total) == (
        Decimal("1260.00"),
        Decimal("24"),
        Decimal("302.40"),
        Decimal("1562.40"),
    )
    assert renewal.summary["state"]["seats"] == 6
    assert len(renewal.summary["applied"]) == 3
    # Its e-mail went to the billing contact with the PDF.
    [message] = [m for m in mail.outbox if renewal.number in m.subject + m.body]
    assert message.to == ["ap@example.test"]
    assert message.attachments[0][0] == f"order-confirmation-{renewal.number}.pdf"
    assert OrderConfirmation.objects.get(pk=renewal.pk).emailed_at is not None


def test_a_termination_ends_the_subscription_with_no_renewal():
    _prices_in_2013(professional_from_september="30.00")
    subscription = _subscribe(start=D(2013, 3, 1), months=6, seats=4)
    with clock.frozen(D(2013, 8, 31)):
        quote = quote_create(subscription=subscription, desired=Desired(terminate=True), actor=None)
        quote_confirm(quote=quote, actor=None)
    orders_before = OrderConfirmation.objects.count()

    with clock.frozen(D(2013, 9, 1)):
        run = rollover_run(on=D(2013, 9, 1), deliver=False)

    assert run.counts == counts(subscriptions=1, changes_applied=1, terminated=1)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.TERMINATED
    # It keeps its last period and state.
    assert (subscription.period_start, subscription.period_end) == (D(2013, 3, 1), D(2013, 8, 31))
    assert subscription.seats == 4
    change = ScheduledChange.objects.get(subscription=subscription)
    assert (change.kind, change.status) == (ChangeKind.TERMINATION, ChangeStatus.APPLIED)
    assert OrderConfirmation.objects.count() == orders_before
    # Later runs leave it alone.
    with clock.frozen(D(2014, 3, 1)):
        later = rollover_run(on=D(2014, 3, 1), deliver=False)
    assert later.counts == NOTHING_DUE
    assert OrderConfirmation.objects.count() == orders_before


def test_two_missed_periods_are_caught_up_each_at_its_own_prices():
    """Quarterly from 2025-02-01; seats down from 8 to 5 on 2025-05-01; Professional rises to
    33.00 from 2025-08-01; the run of 2025-08-15 is the first since April."""
    subscription = _subscribe(start=D(2025, 2, 1), months=3, seats=8)
    with clock.frozen(D(2025, 4, 10)):
        quote = quote_create(subscription=subscription, desired=Desired(seats=5), actor=None)
        quote_confirm(quote=quote, actor=None)
    Price.objects.create(
        edition=Edition.objects.get(code="professional"),
        currency="EUR",
        amount_per_month=Decimal("33.00"),
        valid_from=D(2025, 8, 1),
    )
    version = Subscription.objects.get(pk=subscription.pk).version

    with clock.frozen(D(2025, 8, 15)):
        run = rollover_run(on=D(2025, 8, 15), deliver=False)

    assert run.counts == counts(subscriptions=1, renewed=1, renewal_orders=2, changes_applied=1)
    may, august = _renewals(subscription)
    assert may.renewal_period_start == D(2025, 5, 1)
    assert august.renewal_period_start == D(2025, 8, 1)
    assert [(line.unit_price, line.quantity, line.net) for line in may.lines.all()] == [
        (Decimal("30.00"), 5, Decimal("450.00"))  # 30.00 × 3 months × 5 seats
    ]
    assert [(line.period_start, line.period_end) for line in may.lines.all()] == [
        (D(2025, 5, 1), D(2025, 7, 31))
    ]
    assert [(line.unit_price, line.quantity, line.net) for line in august.lines.all()] == [
        (Decimal("33.00"), 5, Decimal("495.00"))  # 33.00 × 3 months × 5 seats
    ]
    assert [(line.period_start, line.period_end) for line in august.lines.all()] == [
        (D(2025, 8, 1), D(2025, 10, 31))
    ]
    # Both made by the run of 2025-08-15, numbered one after the other.
    assert {may.made_on, august.made_on} == {D(2025, 8, 15)}
    assert august.sequence == may.sequence + 1
    subscription.refresh_from_db()
    assert (subscription.period_start, subscription.period_end) == (D(2025, 8, 1), D(2025, 10, 31))
    assert subscription.seats == 5
    assert subscription.version == version + 2


def test_a_monthly_renewal_in_a_leap_year_covers_the_29_days_of_february():
    subscription = _subscribe(start=D(2024, 1, 1), months=1, seats=5)
    # The run takes its date as an argument: the clock is not frozen for it.
    rollover_run(on=D(2024, 2, 1), deliver=False)
    subscription.refresh_from_db()
    assert (subscription.period_start, subscription.period_end) == (D(2024, 2, 1), D(2024, 2, 29))
    # 2024-02-29 is still February: nothing is due.
    with clock.frozen(D(2024, 2, 29)):
        assert rollover_run(on=D(2024, 2, 29), deliver=False).counts == NOTHING_DUE
    with clock.frozen(D(2024, 3, 1)):
        rollover_run(on=D(2024, 3, 1), deliver=False)

    february, march = _renewals(subscription)
    # A replayed day's orders are made on that day, at the hour of the daily run.
    assert february.made_on == D(2024, 2, 1)
    assert february.confirmed_at == datetime.datetime(
        2024, 2, 1, 3, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Helsinki")
    )
    [line] = february.lines.all()
    # A whole month is a whole month: 30.00 × 1 × 5, not pro rata by 29 days.
    assert (line.period_start, line.period_end, line.net) == (
        D(2024, 2, 1),
        D(2024, 2, 29),
        Decimal("150.00"),
    )
    [line] = march.lines.all()
    assert (line.period_start, line.period_end, line.net) == (
        D(2024, 3, 1),
        D(2024, 3, 31),
        Decimal("150.00"),
    )


def test_a_subscription_without_a_price_on_the_new_periods_first_day_is_skipped_and_retried():
    """Enterprise in EUR is no longer sold from 2025-08-01: that subscription is reported and
    left in its ended period; the other one renews. Once a price exists, a re-run of the same
    day renews it too."""
    catalog_create()
    enterprise = Price.objects.get(edition__code="enterprise", currency="EUR")
    enterprise.valid_until = D(2025, 7, 31)
    enterprise.save()
    stuck = SubscriptionFactory(edition=Edition.objects.get(code="enterprise"))
    fine = SubscriptionFactory()

    with clock.frozen(D(2025, 8, 1)):
        run = rollover_run(on=D(2025, 8, 1), deliver=False)

    assert run.status == BillingRunStatus.FINISHED
    assert run.counts == counts(subscriptions=2, renewed=1, renewal_orders=1, errors=1)
    assert run.errors == [
        {
            "tenant_id": stuck.tenant_id,
            "subscription_id": stuck.pk,
            "message": f"Subscription {stuck.pk} not renewed for the period starting "
            "2025-08-01: Unknown edition 'enterprise': not in the EUR price list of 2025-08-01",
        }
    ]
    stuck.refresh_from_db()
    assert (stuck.period_end, stuck.version) == (D(2025, 7, 31), 1)
    assert _renewals(stuck) == []
    assert len(_renewals(fine)) == 1
    with pytest.raises(RolloverError, match="Unknown edition 'enterprise'"):
        subscription_rollover(subscription=stuck, on=D(2025, 8, 1), deliver=False)

    Price.objects.create(
        edition=Edition.objects.get(code="enterprise"),
        currency="EUR",
        amount_per_month=Decimal("72.00"),
        valid_from=D(2025, 8, 1),
    )
    with clock.frozen(D(2025, 8, 1)):
        again = rollover_run(on=D(2025, 8, 1), deliver=False)
    assert again.attempts == 2
    assert again.errors == []
    # Counts add up over the attempts; errors are the latest attempt's.
    assert again.counts == counts(subscriptions=3, renewed=2, renewal_orders=2, errors=0)
    [renewal] = _renewals(stuck)
    assert renewal.net == Decimal("1080.00")  # 72.00 × 3 months × 5 seats
    assert len(_renewals(fine)) == 1


def test_a_renewal_never_bills_fewer_seats_than_active_users_a_breach_is_a_run_error():
    """8 seats and 11 active users (memberships activated past the licence rule): the
    renewal of 2025-08-01 is not ordered for 8 seats; the run records why. Once 3 users are
    deactivated, a re-run renews the period for the 8 seats bought."""
    from accounts.models import Membership
    from tests.factories import MembershipFactory

    subscription = SubscriptionFactory(seats=8)  # quarterly, 2025-05-01..2025-07-31
    fine = SubscriptionFactory()
    extra = [MembershipFactory(tenant=subscription.tenant) for _ in range(11)]

    with clock.frozen(D(2025, 8, 1)):
        run = rollover_run(on=D(2025, 8, 1), deliver=False)

    assert run.counts == counts(subscriptions=2, renewed=1, renewal_orders=1, errors=1)
    assert run.errors == [
        {
            "tenant_id": subscription.tenant_id,
            "subscription_id": subscription.pk,
            "message": f"Subscription {subscription.pk} not renewed for the period starting "
            "2025-08-01: 11 users are active but the renewal would bill 8 seats: deactivate "
            "3 users or add seats",
        }
    ]
    assert _renewals(subscription) == []
    assert len(_renewals(fine)) == 1

    Membership.objects.filter(pk__in=[m.pk for m in extra[:3]]).update(is_active=False)
    with clock.frozen(D(2025, 8, 1)):
        again = rollover_run(on=D(2025, 8, 1), deliver=False)
    assert again.errors == []
    [renewal] = _renewals(subscription)
    assert renewal.net == Decimal("720.00")  # 30.00 × 3 months × 8 seats


def test_subscription_rollover_renews_once():
    subscription = SubscriptionFactory()  # quarterly, 2025-05-01..2025-07-31, 5 seats
    with clock.frozen(D(2025, 8, 1)):
        [order] = subscription_rollover(subscription=subscription, on=D(2025, 8, 1), deliver=False)
        assert (
            subscription_rollover(subscription=subscription, on=D(2025, 8, 1), deliver=False) == []
        )
        assert order.confirmed_at == clock.now()
    assert order.kind == OrderKind.RENEWAL
    assert order.net == Decimal("450.00")  # 30.00 × 3 × 5
    # FI 25.5 % since 2024-09-01: 114.75
    assert (order.vat, order.total) == (Decimal("114.75"), Decimal("564.75"))
    assert OrderConfirmation.objects.count() == 1


def test_the_database_refuses_a_second_renewal_of_a_period():
    subscription = SubscriptionFactory()
    OrderConfirmationFactory(
        tenant=subscription.tenant,
        kind=OrderKind.RENEWAL,
        line_period_start=D(2025, 8, 1),
        line_period_end=D(2025, 10, 31),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderConfirmationFactory(
            tenant=subscription.tenant,
            kind=OrderKind.RENEWAL,
            line_period_start=D(2025, 8, 1),
            line_period_end=D(2025, 10, 31),
        )


def test_a_renewal_that_exists_already_counts_as_done_and_the_rest_of_the_batch_is_written():
    """A renewal for 2025-08-01 was written (by whatever means) while the subscription still
    shows the old period: the constraint stops the rollover from ordering it again, and the
    other subscriptions of the batch are renewed."""
    collided = SubscriptionFactory()
    OrderConfirmationFactory(
        tenant=collided.tenant,
        kind=OrderKind.RENEWAL,
        line_period_start=D(2025, 8, 1),
        line_period_end=D(2025, 10, 31),
    )
    others = [SubscriptionFactory() for _ in range(3)]

    with clock.frozen(D(2025, 8, 1)):
        run = rollover_run(on=D(2025, 8, 1), deliver=False)

    assert run.counts["already_done"] == 1
    assert run.counts["renewed"] == 3
    assert OrderConfirmation.objects.filter(subscription=collided).count() == 1
    for subscription in others:
        assert len(_renewals(subscription)) == 1


def test_a_run_again_for_the_same_day_renews_nothing_twice():
    subscriptions = [SubscriptionFactory() for _ in range(3)]
    with clock.frozen(D(2025, 8, 1)):
        first = rollover_run(on=D(2025, 8, 1), deliver=False, batch_size=2)
        second = rollover_run(on=D(2025, 8, 1), deliver=False, batch_size=2)
    assert first.pk == second.pk
    assert second.attempts == 2
    assert second.counts["renewed"] == 3
    assert BillingRun.objects.filter(kind="rollover").count() == 1
    for subscription in subscriptions:
        assert len(_renewals(subscription)) == 1


@pytest.mark.django_db(transaction=True)
def test_three_workers_rolling_over_and_invoicing_at_once_issue_nothing_twice():
    """30 subscriptions whose quarter ended on 2025-08-31; three threads, each with its own
    connection, run the rollover and then the invoicing run of Monday 2025-09-01 at once,
    sharing their chunks of 4."""
    catalog_create()
    seller = SellerEntityFactory()
    professional = Edition.objects.get(code="professional")
    subscriptions = [
        SubscriptionFactory(
            seller=seller,
            edition=professional,
            period_start=D(2025, 6, 1),
            period_end=D(2025, 8, 31),
        )
        for _ in range(30)
    ]
    day = D(2025, 9, 1)
    barrier = threading.Barrier(3)
    failures = []

    def worker():
        try:
            barrier.wait()
            rollover_run(on=day, deliver=False, batch_size=4)
            invoicing_run(day=day, deliver=False, batch_size=4)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    # The clock is process-wide: freeze it around the threads, never inside them.
    with clock.frozen(day):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    with scopes_disabled():
        renewals = OrderConfirmation.objects.filter(kind=OrderKind.RENEWAL)
        assert renewals.count() == 30
        assert sorted(renewals.values_list("subscription_id", flat=True)) == sorted(
            s.pk for s in subscriptions
        )
        assert Invoice.objects.count() == 30
        assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, 31))
        assert sorted(Invoice.objects.values_list("tenant_id", flat=True)) == sorted(
            s.tenant_id for s in subscriptions
        )
        rollover = BillingRun.objects.get(kind="rollover", run_date=day)
        invoicing = BillingRun.objects.get(kind="invoicing", run_date=day)
        # 30 subscriptions, then 30 tenants, in chunks of 4: each chunk done once by one of
        # the workers.
        chunks = {
            kind: list(
                BillingRunChunk.objects.filter(run__kind=kind, run__run_date=day).values_list(
                    "status", flat=True
                )
            )
            for kind in ("rollover", "invoicing")
        }
    assert chunks == {"rollover": ["done"] * 8, "invoicing": ["done"] * 8}
    assert (rollover.attempts, invoicing.attempts) == (3, 3)
    assert rollover.counts["renewed"] == rollover.counts["renewal_orders"] == 30
    assert invoicing.counts["invoices"] == 30
    assert {rollover.status, invoicing.status} == {BillingRunStatus.FINISHED}


def test_steps_before_the_renewals_are_counted_and_their_failure_does_not_stop_the_renewals():
    subscription = SubscriptionFactory()
    run = rollover_run(on=D(2025, 8, 1), deliver=False, before_renewals=lambda day: {"switched": 2})
    assert run.counts["switched"] == 2

    other = SubscriptionFactory(period_start=D(2025, 8, 1), period_end=D(2025, 10, 31))

    def broken(day):
        raise RuntimeError(f"cohort of {day} is broken")

    failed = rollover_run(on=D(2025, 11, 1), deliver=False, before_renewals=broken)
    assert failed.status == BillingRunStatus.FINISHED
    assert failed.errors == [
        {"tenant_id": None, "message": "RuntimeError: cohort of 2025-11-01 is broken"}
    ]
    # Both subscriptions were renewed all the same (the first one for the second time).
    assert failed.counts["renewed"] == 2
    assert len(_renewals(subscription)) == 2
    assert len(_renewals(other)) == 1


def test_subscriptions_never_imports_the_billing_run():
    """The rollover and the invoicing run live in billing; the subscriptions app, below
    billing, imports none of the run's modules (the cycle billing.runs → rollover →
    billing.tasks is gone)."""
    import ast
    from pathlib import Path

    run_modules = {"billing.runs", "billing.rollover", "billing.tasks", "billing.issuing"}
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in (root / "subscriptions").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            else:
                continue
            if names & run_modules:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
    assert not (root / "subscriptions" / "rollover.py").exists()
