"""The period rollover (DESIGN §3.2–§3.4): on a period's first day, apply the scheduled
decreases, start the new period and confirm its renewal order.

For a subscription whose period ended before the run's date (`period_end < on`), under the
subscription's row lock, one step per period boundary crossed (a run that was missed for two
periods catches both up, each with its own order):

1. the scheduled changes effective on the new period's first day (or earlier: a change can
   only be dated on a period start, so an earlier one is a boundary some run missed) are
   applied and closed as applied: edition, seats, storage tier, add-on and interface removals;
2. a termination ends the subscription instead: status terminated, no renewal; it keeps the
   state of its last period, and whatever else was still scheduled is closed as superseded
   (it never took effect);
3. otherwise the new period starts (`period_start`/`period_end`, `version` + 1) and a renewal
   order is confirmed for the whole period at the prices and VAT valid on its first day
   (`subscriptions.selectors.period_price`, the same pricing as the Agreement page's "next
   period" and the upcoming-period preview), for the seats bought, with
   `renewal_period_start` = the period's first day. Its PDF and e-mail go out after the
   commit, like every order's.

Exactly once: the unique constraint `order_one_renewal_per_period` (subscription + period
start) makes a second renewal of a period impossible, whatever the code does; the row lock and
`period_end < on` make the common case (a re-run, two workers) find nothing to do, and a
violation inside a savepoint is counted as "already done".

A subscription that cannot be priced on the new period's first day (its edition, an add-on,
interface or storage tier has no price in its currency valid that day, or no VAT rate is
known) is not renewed at all: nothing of it is written, the run records an error with the
tenant id and the reason, and the other subscriptions carry on. It stays in its ended period,
so no quote can be made for it and nothing new is invoiced, and every later run retries it
(it is still due) until an operator adds the missing price; the renewal then orders the
period from its first day, at the prices valid on that day. The same holds for a renewal that
would bill fewer seats than the tenant has active users (an invariant every activation keeps,
checked here so that a breach is an error of the run, never silence).

Chunks: `rollover_run` splits the due subscriptions into chunks of up to `BATCH_SIZE`
that any number of workers claim (`billing.chunks`: `SELECT … FOR UPDATE SKIP LOCKED`, a
killed worker's chunk taken over), locks each chunk's subscriptions still due, prices them in
memory with one price book per currency and date, and writes the batch with a fixed number
of statements whatever its size: insert orders, insert lines, update subscriptions, close
changes (two), insert audit events.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.audit import AuditAction, audit_event_build
from accounts.models import AuditEvent
from billing.chunks import chunked, chunks_plan, chunks_work
from billing.delivery_tasks import order_confirmations_send
from billing.models import BillingRun, BillingRunKind, SellerEntity
from billing.run_records import RunError, RunTally, run_begin, run_end, run_failed
from severa import clock
from severa.bulk import bulk_insert
from severa.errors import DomainError
from severa.periods import Period, next_period
from subscriptions.catalog import price_book
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    Edition,
    OrderConfirmation,
    OrderKind,
    OrderLine,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.pricebook import PriceBook, QuoteError
from subscriptions.quotes import SubscriptionState
from subscriptions.selectors import (
    PeriodPrice,
    active_licences_by_tenant,
    order_sequences_last,
    period_price,
    state_after,
    subscription_state,
    vat_decision,
)
from subscriptions.services import change_json, order_rows

logger = logging.getLogger(__name__)

# Sent after a rollover run has written the new periods, with ``on`` (the rollover's day).
rollover_done = Signal()

BATCH_SIZE = 500
# What a rollover run reports (BillingRun.counts): subscriptions examined, renewed (one or
# more renewals), renewal orders made, scheduled changes applied, terminations, found done
# already; plus "errors", the subscriptions it could not renew.
ROLLOVER_COUNTS = (
    "subscriptions",
    "renewed",
    "renewal_orders",
    "changes_applied",
    "terminated",
    "already_done",
)
# What a rollover writes on a subscription.
SUBSCRIPTION_FIELDS = (
    "edition",
    "seats",
    "storage_gb",
    "add_ons",
    "interfaces",
    "period_start",
    "period_end",
    "status",
    "version",
    "updated_at",
)


class RolloverError(DomainError):
    """A subscription that cannot be renewed as it is; the message is meant for an operator."""

    messages = {"not_renewed": _("This subscription cannot be renewed: %(reason)s")}


def run_moment(*, on: date) -> datetime:
    """When a job for `on` happens: now when `on` is today, else 03:00 local time on `on` (the
    time the daily run is scheduled), so a replayed day gets timestamps on that day without
    freezing the process clock."""
    now = clock.now()
    if timezone.localdate(now) == on:
        return now
    return timezone.make_aware(datetime.combine(on, time(3, 0)))


@dataclass(frozen=True)
class RolloverStep:
    """One period boundary crossed.

    `period` and `state` are the new period and the subscription in it; for a termination
    (`price` None) they are the last period, which has ended, and the state it had.
    """

    period: Period
    state: SubscriptionState
    applied: tuple[ScheduledChange, ...]
    superseded: tuple[ScheduledChange, ...]
    still_scheduled: tuple[ScheduledChange, ...]
    price: PeriodPrice | None

    @property
    def terminates(self) -> bool:
        return self.price is None


def rollover_plan(
    *,
    subscription: Subscription,
    changes: Iterable[ScheduledChange],
    on: date,
    prices: Callable[[str, date], PriceBook],
    priced: Callable[[Subscription, SubscriptionState, Period, PriceBook], PeriodPrice]
    | None = None,
) -> list[RolloverStep]:
    """The period boundaries `subscription` has crossed by `on` (periods that ended before
    `on`), each with the changes that take effect and the renewal priced; reads nothing but
    `prices(currency, day)`. Raises QuoteError (not in the price list) or ValueError (no VAT
    rate) when a renewal cannot be priced. `priced` prices a state for a period (default:
    `renewal_price`; a run passes one that remembers its answers)."""
    priced = priced or renewal_price
    state = subscription_state(subscription=subscription)
    pending = sorted(changes, key=lambda change: (change.effective_date, change.pk or 0))
    steps: list[RolloverStep] = []
    while state.period.end < on:
        # Periods follow each other without gaps; next_period steps whole months, so month
        # ends and leap years (2024-02-01..2024-02-29) need no day arithmetic here.
        following = next_period(state.period, subscription.period_months)
        due = [change for change in pending if change.effective_date <= following.start]
        pending = [change for change in pending if change.effective_date > following.start]
        new_state, terminating = state_after(state=replace(state, period=following), changes=due)
        if terminating:
            ends = tuple(change for change in due if change.kind == ChangeKind.TERMINATION)
            others = tuple(change for change in due if change.kind != ChangeKind.TERMINATION)
            steps.append(RolloverStep(state.period, state, ends, others + tuple(pending), (), None))
            return steps
        book = prices(subscription.currency, following.start)
        price = priced(subscription, new_state, following, book)
        steps.append(RolloverStep(following, new_state, tuple(due), (), tuple(pending), price))
        state = new_state
    return steps


def renewal_price(
    *, subscription: Subscription, state: SubscriptionState, period: Period, book: PriceBook
) -> PeriodPrice:
    """`state` priced for the whole of `period` from `book` (its currency, on the period's
    first day), after checking that the book prices every item of it."""
    book.check_selection(
        edition=state.edition_code,
        storage_gb=state.storage_gb,
        add_ons=state.add_ons,
        interfaces=state.interfaces,
        added_add_ons=(),  # a renewal keeps the add-ons the subscription has
    )
    return period_price(subscription=subscription, state=state, period=period, prices=book)


@dataclass
class _Context:
    """What every batch of one run shares: its date and time, the catalog, the price books."""

    on: date
    moment: datetime
    deliver: bool
    editions: dict[str, Edition]
    books: dict[tuple[str, date], PriceBook] = field(default_factory=dict)
    sellers: dict[int, SellerEntity] = field(default_factory=dict)
    renewal_prices: dict[tuple, PeriodPrice] = field(default_factory=dict)

    @classmethod
    def for_day(cls, on: date, *, deliver: bool) -> _Context:
        return cls(
            on=on,
            moment=run_moment(on=on),
            deliver=deliver,
            editions={edition.code: edition for edition in Edition.objects.all()},
        )

    def attach(self, subscriptions: list[Subscription]) -> None:
        """Give each subscription its seller and edition from the run's few instances
        instead of one joined copy per row."""
        missing = {s.seller_id for s in subscriptions} - set(self.sellers)
        if missing:
            self.sellers.update(SellerEntity.objects.in_bulk(missing))
        editions = {edition.pk: edition for edition in self.editions.values()}
        for subscription in subscriptions:
            subscription.seller = self.sellers[subscription.seller_id]
            subscription.edition = editions[subscription.edition_id]

    def priced(
        self,
        subscription: Subscription,
        state: SubscriptionState,
        period: Period,
        book: PriceBook,
    ) -> PeriodPrice:
        """`renewal_price`, once per price book, state and VAT decision in a run: the
        price is a function of these alone, and thousands of subscriptions share a shape."""
        key = (
            book.currency,
            book.priced_on,
            state,
            period,
            vat_decision(subscription=subscription, on=period.start),
        )
        price = self.renewal_prices.get(key)
        if price is None:
            price = self.renewal_prices[key] = renewal_price(
                subscription=subscription, state=state, period=period, book=book
            )
        return price

    def prices(self, currency: str, day: date) -> PriceBook:
        key = (currency, day)
        if key not in self.books:
            self.books[key] = price_book(currency=currency, on=day)
        return self.books[key]


@dataclass
class _SubscriptionWrite:
    subscription: Subscription
    orders: list[tuple[OrderConfirmation, list[OrderLine]]] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    tally: RunTally = field(default_factory=RunTally)


def _renewal_summary(step: RolloverStep) -> dict:
    state = step.state
    return {
        "state": {
            "edition": state.edition_code,
            "seats": state.seats,
            "storage_gb": state.storage_gb,
            "add_ons": sorted(state.add_ons),
            "interfaces": sorted(state.interfaces),
        },
        "applied": [change_json(change=change) for change in step.applied],
        "scheduled": [change_json(change=change) for change in step.still_scheduled],
        "removed_add_ons": [],
    }


def _subscription_ref(subscription: Subscription) -> tuple[str, int, str]:
    """The subscription as an audit event names it (its rows carry no name of their own)."""
    return (subscription._meta.label_lower, subscription.pk, "")


def _subscription_write(
    subscription: Subscription, steps: list[RolloverStep], sequence: int, context: _Context
) -> _SubscriptionWrite:
    """The rows one subscription's rollover writes (unsaved), and the subscription moved on
    in memory."""
    write = _SubscriptionWrite(subscription)
    tally = write.tally
    for step in steps:
        write.applied.extend(change.pk for change in step.applied)
        write.superseded.extend(change.pk for change in step.superseded)
        tally.add("changes_applied", len(step.applied))
        if step.terminates:
            subscription.status = SubscriptionStatus.TERMINATED
            subscription.version_next()
            tally.add("terminated")
            write.audit.append(
                audit_event_build(
                    actor=None,
                    action=AuditAction.SUBSCRIPTION_TERMINATED,
                    tenant=subscription.tenant_id,
                    subject_ref=_subscription_ref(subscription),
                    details={"last_period": str(step.period)},
                    at=context.moment,
                )
            )
            break
        sequence += 1
        price = step.price
        order, lines = order_rows(
            subscription=subscription,
            kind=OrderKind.RENEWAL,
            quote=None,
            actor=None,
            lines=price.lines,
            vat=price.vat_decision,
            summary=_renewal_summary(step),
            sequence=sequence,
            made_on=context.on,
            confirmed_at=context.moment,
            renewal_period_start=step.period.start,
        )
        write.orders.append((order, lines))
        tally.add("renewal_orders")
        state = step.state
        subscription.edition = context.editions[state.edition_code]
        subscription.seats = state.seats
        subscription.storage_gb = state.storage_gb
        subscription.add_ons = sorted(state.add_ons)
        subscription.interfaces = sorted(state.interfaces)
        subscription.period_start = step.period.start
        subscription.period_end = step.period.end
        subscription.version_next()
        write.audit.append(
            audit_event_build(
                actor=None,
                action=AuditAction.SUBSCRIPTION_RENEWED,
                tenant=subscription.tenant_id,
                subject_ref=_subscription_ref(subscription),
                details={
                    "period": str(step.period),
                    "order": order.number,
                    "total": str(order.total),
                    "applied": [change.description for change in step.applied],
                },
                at=context.moment,
            )
        )
    if write.orders:
        tally.add("renewed")
    subscription.updated_at = clock.now()
    return write


def _write(writes: list[_SubscriptionWrite], context: _Context) -> None:
    """Insert and update the rows of `writes`: the same ten statements for one subscription
    or five hundred (an insert is two: keys from the sequence, then COPY)."""
    orders = [order for write in writes for order, _lines in write.orders]
    bulk_insert(orders)
    lines = []
    for write in writes:
        for order, order_lines in write.orders:
            for line in order_lines:
                line.order = order
                lines.append(line)
    bulk_insert(lines)
    _subscriptions_update([write.subscription for write in writes])
    # Only scheduled changes move on: the subscription's row lock keeps a cancellation out.
    applied = [pk for write in writes for pk in write.applied]
    superseded = [pk for write in writes for pk in write.superseded]
    if applied:
        ScheduledChange.objects.filter(pk__in=applied, status=ChangeStatus.SCHEDULED).update(
            status=ChangeStatus.APPLIED, closed_at=context.moment
        )
    if superseded:
        ScheduledChange.objects.filter(pk__in=superseded, status=ChangeStatus.SCHEDULED).update(
            status=ChangeStatus.SUPERSEDED, closed_at=context.moment
        )
    bulk_insert([event for write in writes for event in write.audit])
    if context.deliver and orders:
        refs = [(order.tenant_id, order.pk) for order in orders]
        transaction.on_commit(lambda: _deliver(refs))


# The SQL type of each rolled-over field, for `_subscriptions_update`.
_SUBSCRIPTION_FIELD_TYPES = {
    "edition": "bigint",
    "seats": "bigint",
    "storage_gb": "bigint",
    "add_ons": "jsonb",
    "interfaces": "jsonb",
    "period_start": "date",
    "period_end": "date",
    "status": "text",
    "version": "bigint",
    "updated_at": "timestamptz",
}


def _subscriptions_update(subscriptions: list[Subscription]) -> None:
    """Write the rolled-over fields of `subscriptions` in one statement.

    Django's `bulk_update` builds a CASE expression per field and row, which cost ~5 ms of
    Python per subscription (80 % of a rollover batch, measured); on PostgreSQL one
    `UPDATE … FROM unnest(<one array per column>)` does it with a statement whose text does
    not grow with the batch.
    """
    if connection.vendor != "postgresql":
        Subscription.objects.bulk_update(subscriptions, list(SUBSCRIPTION_FIELDS))
        return
    quote = connection.ops.quote_name
    columns = [Subscription._meta.get_field(name) for name in SUBSCRIPTION_FIELDS]
    arrays: list[list[object]] = [[subscription.pk for subscription in subscriptions]]
    for column in columns:
        values = [getattr(subscription, column.attname) for subscription in subscriptions]
        if _SUBSCRIPTION_FIELD_TYPES[column.name] == "jsonb":
            values = [json.dumps(value) for value in values]
        arrays.append(values)
    # JSON goes as text and is cast per row: there is no literal syntax for jsonb[].
    array_types = ["bigint"] + [
        "text"
        if _SUBSCRIPTION_FIELD_TYPES[f.name] == "jsonb"
        else _SUBSCRIPTION_FIELD_TYPES[f.name]
        for f in columns
    ]
    assignments = ", ".join(
        f"{quote(column.column)} = v.{column.column}::{_SUBSCRIPTION_FIELD_TYPES[column.name]}"
        for column in columns
    )
    table = quote(Subscription._meta.db_table)
    # Names come from the model's metadata, values go as parameters.
    sql = (
        f"UPDATE {table} SET {assignments} FROM unnest("  # noqa: S608
        + ", ".join(f"%s::{array_type}[]" for array_type in array_types)
        + f") AS v(id, {', '.join(column.column for column in columns)}) WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def _deliver(refs: list[tuple[int, int]]) -> None:
    # One message per batch; the worker fans it out into one delivery task per order, so a
    # run does not wait for hundreds of enqueues (PERFORMANCE.md: ~1,650 enqueues/s).
    order_confirmations_send.delay(orders=[list(ref) for ref in refs])


def _seats_cover_active_users(steps: list[RolloverStep], active: int) -> None:
    """The invariant of every renewal: it never bills fewer seats than users hold licences
    (§3.3: active users ≤ seats). Every path that activates a user keeps it; a breach means
    one did not, and is raised (QuoteError) so that the run records it and renews nothing of
    that subscription until the users or the seats are put right."""
    for step in steps:
        if not step.terminates and step.state.seats < active:
            raise QuoteError(
                "renewal_below_active_users",
                active=active,
                seats=step.state.seats,
                count=active - step.state.seats,
            )


def _rollover_batch(
    subscriptions: list[Subscription], context: _Context
) -> tuple[RunTally, list[OrderConfirmation]]:
    """Roll over `subscriptions`, locked by the caller's transaction."""
    tally = RunTally()
    context.attach(subscriptions)
    ids = [subscription.pk for subscription in subscriptions]
    changes: dict[int, list[ScheduledChange]] = defaultdict(list)
    for change in ScheduledChange.objects.filter(
        subscription_id__in=ids, status=ChangeStatus.SCHEDULED
    ):
        changes[change.subscription_id].append(change)
    plans = []
    active_users = active_licences_by_tenant(tenant_ids=[s.tenant_id for s in subscriptions])
    for subscription in subscriptions:
        tally.add("subscriptions")
        due = subscription.status == SubscriptionStatus.ACTIVE
        if not due or subscription.period_end >= context.on:
            tally.add("already_done")
            continue
        starts = subscription.period_end + timedelta(days=1)
        try:
            steps = rollover_plan(
                subscription=subscription,
                changes=changes[subscription.pk],
                on=context.on,
                prices=context.prices,
                priced=context.priced,
            )
            _seats_cover_active_users(steps, active_users.get(subscription.tenant_id, 0))
        except (QuoteError, ValueError) as error:
            tally.errors.append(
                RunError(
                    tenant_id=subscription.tenant_id,
                    subscription_id=subscription.pk,
                    message=(
                        f"Subscription {subscription.pk} not renewed for the period starting "
                        f"{starts.isoformat()}: {error}"
                    ),
                )
            )
            continue
        plans.append((subscription, steps))
    if not plans:
        return tally, []
    last_sequence = order_sequences_last(tenant_ids=[s.tenant_id for s, _ in plans])
    writes = [
        _subscription_write(
            subscription, steps, last_sequence.get(subscription.tenant_id) or 0, context
        )
        for subscription, steps in plans
    ]
    try:
        with transaction.atomic():
            _write(writes, context)
        written = writes
    except IntegrityError:
        # A renewal of one of these periods exists already (which the locks and the due
        # filter should make impossible): write one subscription at a time so that only the
        # one already done is skipped.
        logger.warning("Rollover %s: a batch collided with existing renewals", context.on)
        written = []
        for write in writes:
            for order, _lines in write.orders:
                order.pk = None
                order._state.adding = True
            try:
                with transaction.atomic():
                    _write([write], context)
            except IntegrityError:
                tally.add("already_done")
                continue
            written.append(write)
    for write in written:
        tally.merge(write.tally)
    return tally, [order for write in written for order, _lines in write.orders]


def _locked(queryset, *, skip_locked: bool = False):
    # of=("self",): lock the subscription rows only, not the joined tenants and sellers.
    return queryset.select_for_update(of=("self",), skip_locked=skip_locked).select_related(
        "tenant", "tenant__billing_details"
    )


def due_subscriptions(*, on: date):
    """Active subscriptions whose period ended before `on`."""
    return Subscription.objects.filter(status=SubscriptionStatus.ACTIVE, period_end__lt=on)


def subscription_rollover(
    *, subscription: Subscription, on: date, deliver: bool = True
) -> list[OrderConfirmation]:
    """Roll `subscription` over to the period containing `on`; returns the renewal orders
    made (none when it was not due, was rolled over already, or terminates).

    Raises RolloverError when it cannot be renewed (see the module docstring); nothing is
    written then.
    """
    context = _Context.for_day(on, deliver=deliver)
    with transaction.atomic():
        locked = _locked(Subscription.objects.filter(pk=subscription.pk)).get()
        tally, orders = _rollover_batch([locked], context)
    if tally.errors:
        raise RolloverError("not_renewed", reason=tally.errors[0].message)
    return orders


def rollover_chunks_plan(on: date, batch_size: int = BATCH_SIZE) -> list[list[int]]:
    """The ids of the subscriptions due on `on`, in chunks of `batch_size`."""
    ids = list(due_subscriptions(on=on).order_by("pk").values_list("pk", flat=True))
    return chunked(ids, batch_size)


def rollover_chunks_work(run: BillingRun, *, deliver: bool, wait: bool = True) -> RunTally:
    """Roll over the open chunks of `run` (`billing.chunks`): each chunk's subscriptions
    still due, locked, in the chunk's transaction."""
    context = _Context.for_day(run.run_date, deliver=deliver)

    def work(ids: list[int]) -> RunTally:
        batch = list(_locked(due_subscriptions(on=context.on).filter(pk__in=ids)).order_by("pk"))
        if not batch:
            return RunTally()
        return _rollover_batch(batch, context)[0]

    return chunks_work(run, work, wait=wait)


def rollover_run(
    *,
    on: date,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
    before_renewals: Callable[[date], dict[str, int]] | None = None,
    planned: Callable[[BillingRun, int], None] | None = None,
) -> BillingRun:
    """Roll over every due subscription for `on`, in chunks of `batch_size` that any number
    of workers share (`billing.chunks`); recorded as the rollover `BillingRun` of that date.
    Safe to run again, or in several workers at once; returns once every chunk is done.

    `before_renewals(on)` runs first, inside the run (the billing run switches seller
    migration cohorts there, so that the day's renewals come from the new seller); its counts
    are added to the run's, and an exception in it is recorded as an error of the run
    without stopping the renewals. `planned(run, chunks)` is called once the run's chunks
    are planned (the daily task asks other workers to join in there).
    """
    with scopes_disabled():
        run = run_begin(kind=BillingRunKind.ROLLOVER, run_date=on)
        tally = RunTally.of(*ROLLOVER_COUNTS)
        if before_renewals is not None:
            try:
                for name, amount in before_renewals(on).items():
                    tally.add(name, amount)
            except Exception as error:
                logger.exception("Rollover %s: the steps before the renewals failed", on)
                tally.errors.append(RunError(None, f"{type(error).__name__}: {error}"))
        try:
            chunks = chunks_plan(run, lambda: rollover_chunks_plan(on, batch_size))
            if planned is not None:
                planned(run, chunks)
            tally.merge(rollover_chunks_work(run, deliver=deliver))
        except Exception as error:
            run_failed(run=run, tally=tally, error=error)
            raise
        _rollover_announce(on)
        return run_end(run=run, tally=tally)


def _rollover_announce(on: date) -> None:
    """Tell the apps above billing that the rollover of ``on`` has written the new periods
    (integrations pauses connections whose interface it removed). A receiver's failure never
    fails the rollover: the next sync run checks the interface again."""
    for receiver, result in rollover_done.send_robust(sender=None, on=on):
        if isinstance(result, Exception):
            logger.error(
                "Rollover %s: %s failed",
                on,
                getattr(receiver, "__qualname__", receiver),
                exc_info=result,
            )
