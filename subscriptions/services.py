"""Writes on subscriptions: provisioning, quotes, confirmations, scheduled changes, licences
(the reads are `subscriptions.selectors`).

Every figure comes from the pure modules (`subscriptions.quotes`, `subscriptions.pricebook`,
`severa.proration`, `severa.vat`); this module reads and writes the rows around them, under a
row lock on the subscription so that two admins (or two API clients) never lose an update.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.audit import AuditAction, audit_record
from accounts.mail import mail_enqueue
from accounts.models import Membership, Partner, Role, Tenant, User
from accounts.services import tenant_admin_emails
from severa import clock, line_texts
from severa.errors import DomainError
from severa.money import quantize
from severa.parties import buyer_snapshot as party_snapshot
from severa.periods import Period, add_months, next_period, period_for, period_starting
from severa.vat import VatDecision, vat_amount
from subscriptions.catalog import price_book
from subscriptions.delivery import order_confirmation_queue
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    Edition,
    OrderConfirmation,
    OrderKind,
    OrderLine,
    Quote,
    QuoteStatus,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.pricebook import (
    ITEM_ADD_ON,
    ITEM_EDITION,
    ITEM_INTERFACE,
    ITEM_SEATS,
    ITEM_STORAGE,
    QuoteError,
)
from subscriptions.quote_lines import QuoteLine
from subscriptions.quotes import SubscriptionState, decrease_effective_date, quote_build
from subscriptions.selectors import (
    PeriodPrice,
    SubscriptionSnapshot,
    active_licences,
    licence_limit,
    order_sequences_last,
    pending_changes,
    period_price,
    planned_state,
    state_after,
    subscription_snapshot,
    subscription_state,
    vat_decision,
)

if TYPE_CHECKING:
    # The seller is billing's model; a subscription only refers to it.
    from billing.models import SellerEntity


class QuoteConflictError(QuoteError):
    """The subscription changed after the quote was made: a new quote is needed."""

    api_status = 409
    api_code = "quote_conflict"
    messages = {
        "quote_of_another_day": _(
            "This quote was made on %(date)s; its figures are for that day. Make a new quote."
        ),
        "subscription_changed": _(
            "The subscription has changed since this quote was made. Review the new figures "
            "and confirm again."
        ),
    }


class ChangeNotCancellableError(QuoteError):
    """A scheduled change that cannot be cancelled (any more)."""

    api_status = 409
    api_code = "change_not_cancellable"
    messages = {
        "change_not_scheduled": _("This change is no longer scheduled"),
        "change_took_effect": _("This change took effect on %(date)s and cannot be cancelled"),
        "termination_supersedes": _(
            "The termination supersedes this change while it stands: cancel the termination first"
        ),
        "add_on_needs_edition_change_cancelled": _(
            "%(add_on)s is not available in the %(edition)s edition: cancel the edition change "
            "first"
        ),
    }


class LicenceError(DomainError):
    """Activating a user would exceed the seats, or deactivating would leave no active
    administrator; the message is meant for the tenant admin."""

    api_status = 409
    api_code = "no_free_licence"
    api_codes = {"last_admin": "last_admin"}
    messages = {
        "no_free_licence": ngettext_lazy(
            "The only licence is in use: buy more seats or deactivate a user first",
            "All %(count)s licences are in use: buy more seats or deactivate a user first",
            "count",
        ),
        "no_free_licence_next_period": ngettext_lazy(
            "The only licence of the next period is in use (seats go down to %(count)s): "
            "cancel the seat decrease or buy more seats first",
            "All %(count)s licences of the next period are in use (seats go down to "
            "%(count)s): cancel the seat decrease or buy more seats first",
            "count",
        ),
        "last_admin": _("The last active administrator cannot be deactivated"),
    }


@dataclass(frozen=True)
class Desired:
    """What the admin asks for; a field left as None keeps its planned value."""

    edition: str | None = None
    seats: int | None = None
    storage_gb: int | None = None
    add_ons: frozenset[str] | None = None
    interfaces: frozenset[str] | None = None
    terminate: bool = False


# Provisioning.


def seller_currency_check(*, seller: SellerEntity, currency: str) -> None:
    """A subscription is sold only in a currency its seller has a bank account in (§3.5):
    QuoteError otherwise."""
    if not seller.bank_accounts.filter(currency=currency).exists():
        raise QuoteError("no_bank_account", seller=seller.name, currency=currency)


# A new subscription's first period starts at most this many months after this month's 1st.
FIRST_PERIOD_MONTHS_AHEAD = 12


def first_period_start_check(*, start: date, today: date) -> date:
    """``start`` when a new subscription's first period may start then: on the 1st of a month,
    in the past (a tenant migrated from another system) or at most a year ahead; else
    QuoteError."""
    if start.day != 1:
        raise QuoteError("first_period_not_first_of_month")
    latest = add_months(today.replace(day=1), FIRST_PERIOD_MONTHS_AHEAD)
    if start > latest:
        raise QuoteError("first_period_too_far", latest=latest)
    return start


def first_period(*, first_period_start: date, period_months: int, today: date) -> Period:
    """The period a new subscription starts in: the one starting on `first_period_start` if
    that is in the future, else the one containing today (earlier periods were billed
    elsewhere)."""
    if first_period_start > today:
        return period_starting(first_period_start, period_months)
    return period_for(first_period_start, period_months, today)


@transaction.atomic
def subscription_create(
    *,
    tenant: Tenant,
    seller: SellerEntity,
    currency: str,
    edition: str,
    seats: int,
    storage_gb: int,
    add_ons: frozenset[str] = frozenset(),
    interfaces: frozenset[str] = frozenset(),
    period_months: int,
    first_period_start: date,
    actor: User | None,
    agreement_end: date | None = None,
    invoice_partner: Partner | None = None,
) -> Subscription:
    """Give `tenant` a subscription and confirm its first order.

    `invoice_partner` is the partner that pays (§3.8): the first order already goes on its
    consolidated invoice.

    The first period may have started in the past (a tenant migrated from another system):
    the subscription is then in the period that contains today, and only that period is
    ordered (earlier periods were billed elsewhere). A first period in the future is ordered
    in full as well.
    """
    if Subscription.objects.filter(tenant=tenant).exists():
        raise QuoteError("already_subscribed", tenant=tenant.name)
    seller_currency_check(seller=seller, currency=currency)
    today = clock.today()
    first_period_start_check(start=first_period_start, today=today)
    period = first_period(
        first_period_start=first_period_start, period_months=period_months, today=today
    )
    state = SubscriptionState(
        edition_code=edition,
        seats=seats,
        storage_gb=storage_gb,
        period_months=period_months,
        period=period,
        currency=currency,
        add_ons=frozenset(add_ons),
        interfaces=frozenset(interfaces),
    )
    price_book(currency=currency, on=period.start).check_selection(
        edition=edition,
        seats=seats,
        storage_gb=storage_gb,
        add_ons=state.add_ons,
        interfaces=state.interfaces,
    )
    active = active_licences(tenant=tenant)
    if seats < active:
        raise QuoteError("seats_below_active_users", tenant=tenant.name, count=active)
    subscription = Subscription.objects.create(
        tenant=tenant,
        seller=seller,
        currency=currency,
        edition=Edition.objects.get(code=edition),
        seats=seats,
        storage_gb=storage_gb,
        add_ons=sorted(add_ons),
        interfaces=sorted(interfaces),
        period_months=period_months,
        period_start=period.start,
        period_end=period.end,
        agreement_end=agreement_end,
        invoice_partner=invoice_partner,
    )
    priced = period_price(subscription=subscription, state=state, period=period)
    order = _order_create(
        subscription=subscription,
        kind=OrderKind.ACTIVATION,
        quote=None,
        actor=actor,
        lines=priced.lines,
        vat=priced.vat_decision,
        summary={"state": _state_json(state), "scheduled": [], "removed_add_ons": []},
    )
    audit_record(
        actor=actor,
        action=AuditAction.SUBSCRIPTION_CREATED,
        tenant=tenant,
        subject=subscription,
        details={"order": order.number},
    )
    return subscription


# Quotes.


def _state_json(state: SubscriptionState) -> dict[str, Any]:
    return {
        "edition": state.edition_code,
        "seats": state.seats,
        "storage_gb": state.storage_gb,
        "add_ons": sorted(state.add_ons),
        "interfaces": sorted(state.interfaces),
    }


def _line_json(line: QuoteLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "item_type": line.item_type,
        "code": line.item_code,
        "description": line.description,
        "unit_price": str(line.unit_price),
        "quantity": line.quantity,
        "period_start": line.period.start.isoformat(),
        "period_end": line.period.end.isoformat(),
        "net": str(line.net),
        "vat_rate": str(line.vat_rate),
        "vat_category": line.vat_category,
        "vat": str(line.vat),
        "total": str(line.total),
        "text_kind": line.text_kind,
        "params": line.params,
    }


def change_json(*, change: ScheduledChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "value": change.value,
        "description": change.description,
        "effective_date": change.effective_date.isoformat(),
        "text_kind": change.text_kind,
        "params": change.params,
    }


def _period_price_json(price: PeriodPrice) -> dict[str, Any]:
    return {
        "start": price.period.start.isoformat(),
        "end": price.period.end.isoformat(),
        "lines": [_line_json(line) for line in price.lines],
        "vat": _vat_json(price.vat_decision),
        "net": str(price.net),
        "vat_amount": str(price.vat),
        "total": str(price.total),
    }


def _vat_json(vat: VatDecision) -> dict[str, str]:
    return {
        "category": vat.category,
        "rate": str(vat.rate),
        "note": vat.note,
        "note_kind": vat.note_kind,
    }


_CHANGE_KINDS = {
    ITEM_EDITION: ChangeKind.EDITION,
    ITEM_SEATS: ChangeKind.SEATS,
    ITEM_STORAGE: ChangeKind.STORAGE,
    ITEM_ADD_ON: ChangeKind.ADD_ON,
    ITEM_INTERFACE: ChangeKind.INTERFACE,
}


def _desired_state(planned: SubscriptionState, desired: Desired) -> SubscriptionState:
    changes: dict[str, Any] = {}
    if desired.edition is not None:
        changes["edition_code"] = desired.edition
    if desired.seats is not None:
        changes["seats"] = desired.seats
    if desired.storage_gb is not None:
        changes["storage_gb"] = desired.storage_gb
    if desired.add_ons is not None:
        changes["add_ons"] = frozenset(desired.add_ons)
    if desired.interfaces is not None:
        changes["interfaces"] = frozenset(desired.interfaces)
    try:
        return replace(planned, **changes)
    except ValueError as error:
        raise QuoteError("invalid_selection", reason=error) from None


def _check_termination_allowed(agreement_end: date | None, today: date) -> None:
    """A partner agreement (§3.2) is terminated in its last month: earlier, the termination is
    refused (not scheduled a year ahead, where it would be forgotten); from the 1st of the
    agreement's last month on, it takes effect the day after the agreement ends."""
    if agreement_end is None or today > agreement_end:
        return
    opens = agreement_end.replace(day=1)
    if today < opens:
        raise QuoteError(
            "termination_too_early",
            agreement_end=agreement_end,
            opens=opens,
            effective=agreement_end + timedelta(days=1),
        )


def quote_content(
    *,
    subscription: Subscription,
    desired: Desired,
    today: date,
    snapshot: SubscriptionSnapshot | None = None,
) -> dict[str, Any]:
    """The Agreement page's figures for `desired`, as stored in a Quote (JSON-ready).

    `snapshot` may pass the subscription's snapshot (its pending changes and licences in
    use) when the caller has read it already."""
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise QuoteError("subscription_ended")
    current = subscription_state(subscription=subscription)
    if snapshot is None:
        pending = list(pending_changes(subscription=subscription))
        active_users = active_licences(tenant=subscription.tenant)
    else:
        pending, active_users = list(snapshot.changes), snapshot.active_users
    planned, terminating = state_after(state=current, changes=pending)
    termination = next((c for c in pending if c.kind == ChangeKind.TERMINATION), None)
    if terminating:
        raise QuoteError("termination_pending", date=termination.effective_date)
    if not current.period.contains(today):
        raise QuoteError("period_ended", period=current.period)
    effective_date = decrease_effective_date(
        period=current.period,
        period_months=current.period_months,
        made_on=today,
        agreement_end=subscription.agreement_end,
    )
    if desired.terminate:
        _check_termination_allowed(subscription.agreement_end, today)
        # The changes scheduled already do not take effect while the termination stands;
        # they stay scheduled, and withdrawing the termination brings them back as they were.
        return {
            "made_on": today.isoformat(),
            "terminate": True,
            "current": _state_json(current),
            "desired": _state_json(planned),
            "effective_now": _state_json(current),
            "vat": _vat_json(vat_decision(subscription=subscription, on=today)),
            "immediate_lines": [],
            "immediate": {"net": "0", "vat": "0", "total": "0"},
            "scheduled": [
                {
                    "kind": ChangeKind.TERMINATION,
                    "value": "",
                    "description": line_texts.line_text(line_texts.TERMINATION, {}),
                    "effective_date": effective_date.isoformat(),
                    "text_kind": line_texts.TERMINATION,
                    "params": {},
                }
            ],
            "superseded": [change_json(change=change) for change in pending],
            "removed_add_ons": [],
            "next_period": None,
        }
    wanted = _desired_state(planned, desired)
    prices = price_book(currency=subscription.currency, on=today)
    if desired.storage_gb is not None and desired.storage_gb != planned.storage_gb:
        sizes = prices.storage_sizes(edition=wanted.edition_code)
        if desired.storage_gb not in sizes:
            choices = ", ".join(f"{size} GB" for size in sizes)
            raise QuoteError("storage_not_a_size", storage_gb=desired.storage_gb, choices=choices)
    if wanted == planned:
        if planned != current:
            raise QuoteError("nothing_to_change_scheduled")
        raise QuoteError("nothing_to_change")
    if wanted == current:
        raise QuoteError("same_as_today")
    vat = vat_decision(subscription=subscription, on=today)
    quote = quote_build(
        current=current,
        desired=wanted,
        prices=prices,
        today=today,
        active_users_at_next_period=active_users,
        vat=vat,
        agreement_end=subscription.agreement_end,
    )
    # The next full period is priced at the prices and VAT valid when it starts, which may
    # differ from today's.
    following = period_price(
        subscription=subscription, state=quote.desired, period=quote.next_period
    )
    ranked = prices.edition_rank(wanted.edition_code) > prices.edition_rank(current.edition_code)
    effective_now = replace(
        current,
        edition_code=wanted.edition_code if ranked else current.edition_code,
        seats=max(current.seats, wanted.seats),
        storage_gb=max(current.storage_gb, wanted.storage_gb),
        add_ons=current.add_ons | quote.desired.add_ons,
        interfaces=current.interfaces | wanted.interfaces,
    )
    scheduled = []
    for change in quote.scheduled_changes:
        kind = _CHANGE_KINDS[change.what]
        value = {
            ChangeKind.EDITION: quote.desired.edition_code,
            ChangeKind.SEATS: str(quote.desired.seats),
            ChangeKind.STORAGE: str(quote.desired.storage_gb),
        }.get(kind, change.item_code)
        scheduled.append(
            {
                "kind": kind,
                "value": str(value),
                "description": change.description,
                "effective_date": change.effective_date.isoformat(),
                "text_kind": change.text_kind,
                "params": change.params,
            }
        )
    return {
        "made_on": today.isoformat(),
        "terminate": False,
        "current": _state_json(current),
        "desired": _state_json(quote.desired),
        "effective_now": _state_json(effective_now),
        "vat": _vat_json(vat),
        "immediate_lines": [_line_json(line) for line in quote.immediate_lines],
        "immediate": {
            "net": str(quote.immediate_net),
            "vat": str(quote.immediate_vat),
            "total": str(quote.immediate_total),
        },
        "scheduled": scheduled,
        "removed_add_ons": [prices.add_on(code).name for code in quote.removed_add_ons],
        "next_period": _period_price_json(following),
    }


def edition_downgrade_refuse(*, subscription: Subscription, edition: str, on: date) -> None:
    """A partner's edition downgrade is not self-service (§3.8): it can lose the customer's
    data and goes to support. QuoteError ``downgrade_not_self_service`` when `edition` ranks
    below the subscription's on `on` (an unknown edition is the price book's QuoteError)."""
    prices = price_book(currency=subscription.currency, on=on)
    if prices.edition_rank(edition) < prices.edition_rank(subscription.edition.code):
        raise QuoteError("downgrade_not_self_service")


def quote_create(
    *,
    subscription: Subscription,
    desired: Desired,
    actor: User | None,
    downgrade_allowed: bool = True,
    snapshot: SubscriptionSnapshot | None = None,
) -> Quote:
    """Price `desired` against the subscription as it is now and keep the figures.

    A partner's edition downgrade (`downgrade_allowed=False`) is refused: it can lose the
    customer's data and goes to support instead (§3.8, `subscriptions/support.py`).
    `snapshot` may pass the subscription's snapshot when the caller read it in this request.
    """
    # Priced against the subscription as last committed, not as the caller read it.
    if snapshot is None:
        snapshot = subscription_snapshot(tenant=subscription.tenant)
    if snapshot.subscription is not None and snapshot.subscription.pk == subscription.pk:
        subscription = snapshot.subscription
    else:
        subscription.refresh_from_db()
        snapshot = None
    today = clock.today()
    if not downgrade_allowed and desired.edition is not None:
        edition_downgrade_refuse(subscription=subscription, edition=desired.edition, on=today)
    content = quote_content(
        subscription=subscription, desired=desired, today=today, snapshot=snapshot
    )
    asked = {
        "edition": desired.edition,
        "seats": desired.seats,
        "storage_gb": desired.storage_gb,
        "add_ons": sorted(desired.add_ons) if desired.add_ons is not None else None,
        "interfaces": sorted(desired.interfaces) if desired.interfaces is not None else None,
        "terminate": desired.terminate,
    }
    # The same choices, priced the same, on the same day, by the same person, against the
    # same subscription version: the Agreement already made (Back and Next again, a second
    # click) is given back instead of a copy. Confirming changes the version, so a quote
    # given back is always open.
    key = _open_quote_key(subscription, today, actor, asked)
    kept = cache.get(key)
    if kept is not None and (kept.subscription_version, kept.desired, kept.content) == (
        subscription.version,
        asked,
        content,
    ):
        return kept
    quote = Quote.objects.create(
        tenant_id=subscription.tenant_id,
        subscription=subscription,
        subscription_version=subscription.version,
        made_on=today,
        desired=asked,
        content=content,
        currency=subscription.currency,
        total=Decimal(content["immediate"]["total"]),
        created_at=clock.now(),
        created_by=actor,
    )
    # Kept once committed, without the objects it was made with (the subscription, the user).
    slim = Quote(**{field.attname: getattr(quote, field.attname) for field in Quote._meta.fields})
    slim._state.adding, slim._state.db = False, quote._state.db
    transaction.on_commit(lambda: cache.set(key, slim, OPEN_QUOTE_SECONDS))
    return quote


OPEN_QUOTE_SECONDS = 60 * 60


def _open_quote_key(subscription: Subscription, today: date, by: User | None, asked: dict) -> str:
    choices = hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()[:32]
    who = by.pk if by is not None else "-"
    place = f"{subscription.tenant_id}:{subscription.pk}:{today}:{who}"
    return f"subscriptions:open-quote:{place}:{choices}"


def quote_remake(*, quote: Quote, actor: User | None, downgrade_allowed: bool = True) -> Quote:
    """The same choices as ``quote``, priced again against the subscription as it is now: what
    an admin gets when confirming was refused because the subscription changed or the day
    passed. Raises QuoteError when the choices no longer make a change (or are refused)."""
    asked = quote.desired
    return quote_create(
        subscription=quote.subscription,
        desired=Desired(
            edition=asked["edition"],
            seats=asked["seats"],
            storage_gb=asked["storage_gb"],
            add_ons=None if asked["add_ons"] is None else frozenset(asked["add_ons"]),
            interfaces=None if asked["interfaces"] is None else frozenset(asked["interfaces"]),
            terminate=asked["terminate"],
        ),
        actor=actor,
        downgrade_allowed=downgrade_allowed,
    )


def quote_confirm(*, quote: Quote, actor: User | None) -> OrderConfirmation:
    """Confirm the Agreement: apply the increases now, schedule the decreases, and confirm
    the order. Confirming the same quote again returns the same order.

    Refused (QuoteConflictError) when the subscription changed after the quote was made, or
    when the quote was made on another day (its pro-rata figures are for that day).
    """
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update()
            .select_related("tenant", "seller", "edition")
            .get(pk=quote.subscription_id)
        )
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        if quote.status == QuoteStatus.CONFIRMED:
            return quote.order
        stale = quote.stale_reason(subscription_version=subscription.version, today=clock.today())
        if stale == "quote_of_another_day":
            raise QuoteConflictError(stale, date=quote.made_on)
        if stale is not None:
            raise QuoteConflictError(stale)
        content = quote.content
        now_state = content["effective_now"]
        subscription.edition = Edition.objects.get(code=now_state["edition"])
        subscription.seats = now_state["seats"]
        subscription.storage_gb = now_state["storage_gb"]
        subscription.add_ons = now_state["add_ons"]
        subscription.interfaces = now_state["interfaces"]
        subscription.version_next()
        subscription.save()
        now = clock.now()
        # The quote's desired state covers the whole next period, so it replaces whatever was
        # scheduled before. A termination does not: it supersedes the scheduled changes only
        # while it stands (the rollover closes them if it takes effect), so withdrawing it
        # restores them exactly.
        if not content.get("terminate"):
            pending_changes(subscription=subscription).update(
                status=ChangeStatus.SUPERSEDED, closed_at=now, closed_by=actor
            )
        vat = content["vat"]
        order = _order_create(
            subscription=subscription,
            kind=OrderKind.CHANGE,
            quote=quote,
            actor=actor,
            lines=content["immediate_lines"],
            vat=VatDecision(vat["category"], Decimal(vat["rate"]), vat["note"]),
            summary={
                "state": content["desired"],
                "scheduled": content["scheduled"],
                "removed_add_ons": content["removed_add_ons"],
                "next_period": content["next_period"],
            },
        )
        language = line_texts.document_language(subscription.tenant)
        ScheduledChange.objects.bulk_create(
            ScheduledChange(
                tenant_id=subscription.tenant_id,
                subscription=subscription,
                kind=change["kind"],
                value=change["value"],
                description=line_texts.line_text_of(change, language=language),
                text_kind=change.get("text_kind", ""),
                params=change.get("params") or {},
                effective_date=date.fromisoformat(change["effective_date"]),
                order=order,
                created_at=now,
                created_by=actor,
            )
            for change in content["scheduled"]
        )
        quote.status = QuoteStatus.CONFIRMED
        quote.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.ORDER_CONFIRMED,
            tenant=subscription.tenant_id,
            subject=order,
            details={"order": order.number, "total": str(order.total)},
        )
    return order


def _order_create(
    *,
    subscription: Subscription,
    kind: str,
    quote: Quote | None,
    actor: User | None,
    lines: list[dict[str, Any]] | tuple[QuoteLine, ...],
    vat: VatDecision,
    summary: dict[str, Any],
    made_on: date | None = None,
    confirmed_at: datetime | None = None,
    renewal_period_start: date | None = None,
) -> OrderConfirmation:
    """Freeze an order with its lines and queue its PDF and e-mail for after the commit.

    The caller holds the subscription's row lock, which also serialises the numbering.
    `made_on` and `confirmed_at` default to the clock's today and now; a billing run passes
    the date it runs for.
    """
    sequence = (
        order_sequences_last(tenant_ids=[subscription.tenant_id]).get(subscription.tenant_id, 0) + 1
    )
    order, order_lines = order_rows(
        subscription=subscription,
        kind=kind,
        quote=quote,
        actor=actor,
        lines=lines,
        vat=vat,
        summary=summary,
        sequence=sequence,
        made_on=made_on if made_on is not None else clock.today(),
        confirmed_at=confirmed_at if confirmed_at is not None else clock.now(),
        renewal_period_start=renewal_period_start,
    )
    order.save(force_insert=True)
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    order_confirmation_queue(order=order)
    return order


def order_rows(
    *,
    subscription: Subscription,
    kind: str,
    quote: Quote | None,
    actor: User | None,
    lines: list[dict[str, Any]] | tuple[QuoteLine, ...],
    vat: VatDecision,
    summary: dict[str, Any],
    sequence: int,
    made_on: date,
    confirmed_at: datetime,
    renewal_period_start: date | None = None,
) -> tuple[OrderConfirmation, list[OrderLine]]:
    """An order and its lines, unsaved: the one place an order's fields are decided, for
    `_order_create` and for the rollover, which writes its renewals in bulk. The lines' `order`
    is set once the order has its primary key.

    The order is written in its buyer's language (the tenant's) as it is confirmed: the
    lines' and scheduled changes' texts and the VAT note, stored and never rendered again."""
    line_dicts = [line if isinstance(line, dict) else _line_json(line) for line in lines]
    net, vat_total, total = _totals(line_dicts, vat, subscription.currency)
    seller = subscription.seller
    tenant = subscription.tenant
    # One switch of language for the whole order (a rollover writes thousands).
    with line_texts.in_language(line_texts.document_language(tenant)):
        line_dicts = line_texts.lines_localized(line_dicts)
        vat_note = line_texts.vat_note_text(vat.note_kind, default=vat.note)
        summary = summary_localized(summary=summary)
    order = OrderConfirmation(
        tenant_id=subscription.tenant_id,
        subscription=subscription,
        quote=quote,
        kind=kind,
        sequence=sequence,
        renewal_period_start=renewal_period_start,
        made_on=made_on,
        confirmed_at=confirmed_at,
        confirmed_by=actor,
        seller=seller,
        invoice_partner_id=subscription.invoice_partner_id,
        seller_snapshot=seller.party(),
        terms_version=seller.terms_version,
        buyer_snapshot=buyer_snapshot(tenant=tenant),
        currency=subscription.currency,
        vat_category=vat.category,
        vat_rate=vat.rate,
        vat_note=vat_note,
        vat_note_kind=vat.note_kind,
        net=net,
        vat=vat_total,
        total=total,
        summary=summary,
    )
    order_lines = [
        OrderLine(
            tenant_id=subscription.tenant_id,
            position=position,
            item_type=line["item_type"],
            item_code=line["code"],
            description=line["description"],
            text_kind=line.get("text_kind", ""),
            params=line.get("params") or {},
            unit_price=Decimal(line["unit_price"]),
            quantity=line["quantity"],
            period_start=date.fromisoformat(line["period_start"]),
            period_end=date.fromisoformat(line["period_end"]),
            net=Decimal(line["net"]),
            vat_rate=Decimal(line["vat_rate"]),
            vat=Decimal(line["vat"]),
            total=Decimal(line["total"]),
        )
        for position, line in enumerate(line_dicts, start=1)
    ]
    return order, order_lines


def summary_localized(*, summary: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    """An order's summary with the texts of its changes and next-period lines rendered in
    `language` (the active one when None)."""
    localized = dict(summary)
    for key in ("scheduled", "withdrawn", "applied"):
        if key in localized:
            localized[key] = line_texts.lines_localized(localized[key], language)
    following = localized.get("next_period")
    if isinstance(following, dict) and "lines" in following:
        localized["next_period"] = following | {
            "lines": line_texts.lines_localized(following["lines"], language)
        }
    return localized


def _totals(
    lines: list[dict[str, Any]], vat: VatDecision, currency: str
) -> tuple[Decimal, Decimal, Decimal]:
    net = quantize(sum((Decimal(line["net"]) for line in lines), Decimal(0)), currency)
    vat_total = vat_amount(net, vat.rate, currency)
    return net, vat_total, net + vat_total


def buyer_snapshot(*, tenant: Tenant) -> dict[str, Any]:
    """The buyer as an order must show it, frozen at confirmation."""
    return party_snapshot(
        name=tenant.name,
        country=tenant.country,
        business_id=tenant.business_id,
        vat_number=tenant.vat_number,
        details=getattr(tenant, "billing_details", None),
    )


# Scheduled changes.


def scheduled_change_cancel(*, change: ScheduledChange, actor: User | None) -> None:
    """Cancel a scheduled decrease or termination before it takes effect."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=change.subscription_id)
        change = ScheduledChange.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.SCHEDULED:
            raise ChangeNotCancellableError("change_not_scheduled")
        if change.effective_date <= clock.today():
            raise ChangeNotCancellableError("change_took_effect", date=change.effective_date)
        termination = (
            pending_changes(subscription=subscription).filter(kind=ChangeKind.TERMINATION).first()
        )
        if termination is not None and change.kind != ChangeKind.TERMINATION:
            raise ChangeNotCancellableError("termination_supersedes")
        if change.kind == ChangeKind.ADD_ON:
            edition_change = (
                pending_changes(subscription=subscription).filter(kind=ChangeKind.EDITION).first()
            )
            if edition_change is not None:
                prices = price_book(currency=subscription.currency, on=clock.today())
                if not prices.add_on_allowed(add_on=change.value, edition=edition_change.value):
                    raise ChangeNotCancellableError(
                        "add_on_needs_edition_change_cancelled",
                        add_on=prices.add_on(change.value).name,
                        edition=prices.edition(edition_change.value).name,
                    )
        change.status = ChangeStatus.CANCELLED
        change.closed_at = clock.now()
        change.closed_by = actor
        change.save(update_fields=["status", "closed_at", "closed_by"])
        subscription.version_next()
        subscription.save(update_fields=["version", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE_CANCELLED,
            tenant=subscription.tenant_id,
            subject=subscription,
            details={"change": change.description},
        )
        if change.kind == ChangeKind.TERMINATION:
            _termination_withdrawal_order(
                subscription=subscription, termination=change, actor=actor
            )


def _termination_withdrawal_order(
    *, subscription: Subscription, termination: ScheduledChange, actor: User | None
) -> OrderConfirmation:
    """The order confirmation of a withdrawn termination: nothing is charged; it names the
    withdrawn termination, the scheduled changes that stand again and the next period's
    price, and goes to the billing contacts like every order. The caller holds the
    subscription's row lock."""
    planned, _terminating = planned_state(subscription=subscription)
    following = next_period(
        Period(subscription.period_start, subscription.period_end), subscription.period_months
    )
    return _order_create(
        subscription=subscription,
        kind=OrderKind.CHANGE,
        quote=None,
        actor=actor,
        lines=[],
        vat=vat_decision(subscription=subscription, on=clock.today()),
        summary={
            "state": _state_json(planned),
            "withdrawn": [change_json(change=termination)],
            "scheduled": [
                change_json(change=change) for change in pending_changes(subscription=subscription)
            ],
            "removed_add_ons": [],
            "next_period": _period_price_json(
                period_price(subscription=subscription, state=planned, period=following)
            ),
        },
    )


# Licences.


def _licence_refusal(tenant: Tenant, subscription: Subscription | None) -> LicenceError | None:
    """Why one more user of `tenant` cannot be active now (active users ≤ seats, §3.3, and
    ≤ the seats of a decrease already scheduled), or None when a licence is free. The
    caller holds `subscription`'s row lock, so two users cannot both take the last seat."""
    limit = licence_limit(tenant=tenant)
    if limit is None or active_licences(tenant=tenant) < limit:
        return None
    if subscription is not None and limit < subscription.seats:
        return LicenceError("no_free_licence_next_period", count=limit)
    return LicenceError("no_free_licence", count=limit)


def _subscription_locked(tenant_id: int) -> Subscription | None:
    return Subscription.objects.select_for_update().filter(tenant_id=tenant_id).first()


def licence_activate(*, membership: Membership, actor: User | None) -> Membership:
    """Activate a user: it takes a free licence (active users ≤ seats, §3.3)."""
    with transaction.atomic():
        subscription = _subscription_locked(membership.tenant_id)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.is_active:
            return membership
        refusal = _licence_refusal(membership.tenant, subscription)
        if refusal is not None:
            raise refusal
        membership.is_active = True
        membership.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.LICENCE_ACTIVATED,
            tenant=membership.tenant_id,
            subject=membership.user,
            details={"user": membership.user.email},
        )
    return membership


def _in_english(error: DomainError) -> str:
    """An audit row's text is for the vendor's staff: the same language whoever caused it."""
    with translation.override("en"):
        return str(error)


def licence_for_joining_user(*, tenant: Tenant, user: User) -> bool:
    """Whether `user`, joining `tenant` now (an accepted invitation, a partner's new customer
    administrator), takes a licence: the rule `licence_activate` applies. Beyond the free
    seats the user joins deactivated, the refusal is audited and the company's admins are
    e-mailed, with a link to buy seats, after the commit. Call inside the transaction that
    adds the membership: the subscription stays locked until it commits."""
    refusal = _licence_refusal(tenant, _subscription_locked(tenant.pk))
    if refusal is None:
        return True
    audit_record(
        actor=None,
        action=AuditAction.LICENCE_REFUSED_ON_JOIN,
        tenant=tenant,
        subject=user,
        details={"user": user.email, "reason": _in_english(refusal)},
    )
    limit = licence_limit(tenant=tenant)
    mail_enqueue(
        to=tenant_admin_emails(tenant=tenant),
        template="licence_shortage_notice",
        context={
            "tenant": tenant.name,
            "user": user.get_full_name() or user.username,
            "email": user.email,
            "seats": limit,
            "upgrades_path": reverse("tenant_upgrades", args=[tenant.pk]),
            "users_path": reverse("tenant_users", args=[tenant.pk]),
        },
        language=tenant.language,
        tenant=tenant,
    )
    return False


def licence_deactivate(*, membership: Membership, actor: User | None) -> Membership:
    """Deactivate a user: its licence becomes free. The last active admin stays."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if not membership.is_active:
            return membership
        if (
            membership.role == Role.ADMIN
            and not Membership.objects.filter(
                tenant_id=membership.tenant_id, role=Role.ADMIN, is_active=True
            )
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise LicenceError("last_admin")
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.LICENCE_DEACTIVATED,
            tenant=membership.tenant_id,
            subject=membership.user,
            details={"user": membership.user.email},
        )
    return membership
