"""Reads on subscriptions: a subscription's state and the changes scheduled for it, its
snapshot for the pages, its VAT, the licences in use, the price of a period, a stored quote
and the last order numbers.

The writes are `subscriptions.services`; both take their figures from the pure modules
(`subscriptions.quotes`, `subscriptions.pricebook`, `severa.vat`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max
from django.utils import translation

from accounts.models import Membership, Tenant, User
from severa.periods import Period, next_period
from severa.table_versions import versioned_read
from severa.vat import VatDecision, buyer_vat_decision
from subscriptions.catalog import CATALOG_SOURCES, price_book
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    Edition,
    OrderConfirmation,
    Quote,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.pricebook import PriceBook, QuoteError
from subscriptions.quote_lines import QuoteLine, lines_totals
from subscriptions.quotes import SubscriptionState

# Reading the state.


def subscription_state(*, subscription: Subscription) -> SubscriptionState:
    """The chargeable shape in force today."""
    return SubscriptionState(
        edition_code=subscription.edition.code,
        seats=subscription.seats,
        storage_gb=subscription.storage_gb,
        period_months=subscription.period_months,
        period=Period(subscription.period_start, subscription.period_end),
        currency=subscription.currency,
        add_ons=frozenset(subscription.add_ons),
        interfaces=frozenset(subscription.interfaces),
    )


def pending_changes(*, subscription: Subscription):
    return ScheduledChange.objects.filter(
        subscription=subscription, status=ChangeStatus.SCHEDULED
    ).order_by("effective_date", "id")


def state_after(*, state: SubscriptionState, changes) -> tuple[SubscriptionState, bool]:
    """`state` with scheduled `changes` applied, and whether one of them terminates."""
    terminating = False
    for change in changes:
        if change.kind == ChangeKind.EDITION:
            state = replace(state, edition_code=change.value)
        elif change.kind == ChangeKind.SEATS:
            state = replace(state, seats=int(change.value))
        elif change.kind == ChangeKind.STORAGE:
            state = replace(state, storage_gb=int(change.value))
        elif change.kind == ChangeKind.ADD_ON:
            state = replace(state, add_ons=state.add_ons - {change.value})
        elif change.kind == ChangeKind.INTERFACE:
            state = replace(state, interfaces=state.interfaces - {change.value})
        elif change.kind == ChangeKind.TERMINATION:
            terminating = True
    return state, terminating


def planned_state(
    *, subscription: Subscription, changes: Iterable[ScheduledChange] | None = None
) -> tuple[SubscriptionState, bool]:
    """What the next period will have: today's state with the pending changes applied
    (`changes` may pass them when the caller has read them already)."""
    if changes is None:
        changes = pending_changes(subscription=subscription)
    return state_after(state=subscription_state(subscription=subscription), changes=changes)


def vat_decision(*, subscription: Subscription, on: date) -> VatDecision:
    """VAT for this tenant buying from the subscription's seller on `on` (§3.5).

    Tenants are companies; a VAT number counts only when it is well-formed for the tenant's
    country.
    """
    tenant = subscription.tenant
    try:
        return buyer_vat_decision(
            seller_country=subscription.seller.country,
            buyer_country=tenant.country,
            buyer_vat_number=tenant.vat_number,
            on=on,
        )
    except ValueError as error:
        # A country that is not an ISO code, or a date before the rate table: the figures
        # cannot be made, and the reason is for whoever fixes the company's details.
        raise QuoteError("vat_undecided", tenant=tenant.name, reason=error) from None


def _licensed_memberships():
    """The memberships that use a licence: active, of an active account."""
    return Membership.objects.filter(is_active=True, user__is_active=True)


def active_licences(*, tenant: Tenant) -> int:
    return _licensed_memberships().filter(tenant=tenant).count()


def active_licences_by_tenant(*, tenant_ids: list[int]) -> dict[int, int]:
    """`active_licences` of many tenants in one query (tenants without any are left out)."""
    return dict(
        _licensed_memberships()
        .filter(tenant_id__in=tenant_ids)
        .order_by()
        .values("tenant_id")
        .annotate(active=Count("pk"))
        .values_list("tenant_id", "active")
    )


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A tenant's subscription (with its edition and seller) as the Upgrades and Adjust pages
    and a new quote read it: its pending changes and the licences in use."""

    subscription: Subscription | None
    changes: tuple[ScheduledChange, ...]
    active_users: int


# Every table the snapshot reads; a committed write to one of them rebuilds it.
_SNAPSHOT_SOURCES = (
    Subscription,
    Edition,
    Subscription.seller.field.related_model,
    ScheduledChange,
    Membership,
    User,
)


def subscription_snapshot(*, tenant: Tenant) -> SubscriptionSnapshot:
    """The tenant's subscription as last committed, kept in the shared cache until one of the
    tables it is read from changes (severa/table_versions.py)."""

    def build() -> SubscriptionSnapshot:
        subscription = (
            Subscription.objects.select_related("edition", "seller").filter(tenant=tenant).first()
        )
        changes = (
            tuple(pending_changes(subscription=subscription)) if subscription is not None else ()
        )
        return SubscriptionSnapshot(subscription, changes, active_licences(tenant=tenant))

    snapshot = versioned_read(f"subscriptions:snapshot:{tenant.pk}", _SNAPSHOT_SOURCES, build)
    if snapshot.subscription is not None:
        snapshot.subscription.tenant = tenant
    return snapshot


@dataclass(frozen=True)
class PeriodPrice:
    period: Period
    lines: tuple[QuoteLine, ...]
    net: Decimal
    vat: Decimal
    total: Decimal
    vat_decision: VatDecision


def period_price(
    *,
    subscription: Subscription,
    state: SubscriptionState,
    period: Period,
    prices: PriceBook | None = None,
) -> PeriodPrice:
    """`state` priced for the whole of `period` at the prices and VAT valid on its first day.

    `prices` may pass the price book of the subscription's currency on `period.start` when
    the caller already has it (the rollover prices thousands of subscriptions with a handful
    of books).
    """
    if prices is None:
        prices = price_book(currency=subscription.currency, on=period.start)
    elif (prices.currency, prices.priced_on) != (subscription.currency, period.start):
        raise ValueError(
            f"{prices.currency} prices of {prices.priced_on} cannot price a "
            f"{subscription.currency} period starting {period.start}"
        )
    vat = vat_decision(subscription=subscription, on=period.start)
    lines = prices.period_lines(
        edition=state.edition_code,
        seats=state.seats,
        storage_gb=state.storage_gb,
        add_ons=state.add_ons,
        interfaces=state.interfaces,
        period=period,
        period_months=state.period_months,
        vat=vat,
    )
    net, vat_total, total = lines_totals(lines=lines, vat=vat, currency=subscription.currency)
    return PeriodPrice(period, lines, net, vat_total, total, vat)


def upcoming_period_price_of(*, tenant: Tenant) -> PeriodPrice | None:
    """`upcoming_period_price` of the tenant's subscription (None without one), kept in the
    shared cache per language until a table it is priced from changes."""

    def build() -> PeriodPrice | None:
        snapshot = subscription_snapshot(tenant=tenant)
        if snapshot.subscription is None:
            return None
        return upcoming_period_price(subscription=snapshot.subscription, changes=snapshot.changes)

    return versioned_read(
        f"subscriptions:upcoming:{tenant.pk}:{translation.get_language()}",
        (*_SNAPSHOT_SOURCES, Tenant, *CATALOG_SOURCES),
        build,
    )


def upcoming_period_price(
    *, subscription: Subscription, changes: Iterable[ScheduledChange] | None = None
) -> PeriodPrice | None:
    """The next period's cost: the subscription plus its scheduled changes (§3.6).

    None when a termination takes effect before then. `changes` may pass the pending
    changes when the caller has read them already.
    """
    if changes is None:
        changes = pending_changes(subscription=subscription)
    planned, terminating = state_after(
        state=subscription_state(subscription=subscription), changes=changes
    )
    following = next_period(
        Period(subscription.period_start, subscription.period_end), subscription.period_months
    )
    if terminating or subscription.status != SubscriptionStatus.ACTIVE:
        return None
    return period_price(subscription=subscription, state=planned, period=following)


def quote_of(*, tenant: Tenant, quote_id: int) -> Quote | None:
    """The tenant's quote `quote_id` (None when it has none such), kept in the shared cache
    until a quote changes: an Agreement page is opened again and again before it is
    confirmed."""

    def build() -> Quote | None:
        return Quote.objects.filter(pk=quote_id, tenant=tenant).first()

    return versioned_read(f"subscriptions:quote:{tenant.pk}:{int(quote_id)}", [Quote], build)


def order_sequences_last(*, tenant_ids: Iterable[int]) -> dict[int, int]:
    """The last order number of each tenant that has orders. Order numbers run per tenant;
    the caller holds the tenants' subscription row locks (one subscription per tenant),
    which serialise the numbering."""
    return dict(
        OrderConfirmation.objects.filter(tenant_id__in=list(tenant_ids))
        .order_by()
        .values("tenant_id")
        .annotate(last=Max("sequence"))
        .values_list("tenant_id", "last")
    )


def licence_limit(*, tenant: Tenant) -> int | None:
    """How many users may be active: the seats today, or fewer when a seat decrease is
    scheduled (users active now stay active at the next period). None without a subscription.
    """
    subscription = Subscription.objects.filter(tenant=tenant).first()
    if subscription is None:
        return None
    planned, _ = planned_state(subscription=subscription)
    return min(subscription.seats, planned.seats)
