"""Quotes for subscription changes: the figures of the Agreement page (DESIGN §3.3).

A quote compares the subscription as it is (`current`) with what the tenant admin asks for
(`desired`) and splits the difference:

- Increases (more seats, a larger storage tier, an added add-on or interface, a higher
  edition) take effect on the quote date and are charged now for the rest of the current
  period, pro rata by days (`severa.proration`), one line per item.
- Decreases (fewer seats, a smaller tier, a removed add-on or interface, a lower edition) are
  neither charged nor credited now: they are scheduled for the start of the next period
  (`decrease_effective_date`).
- The price of the next full period for the desired state is shown beside them.

Everything here is a pure function of its arguments: no ORM, no clock (the quote date is an
argument), so the Agreement page, the upcoming-period preview and the billing run agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import ngettext_lazy

from severa import line_texts
from severa.money import check_currency
from severa.periods import Period, check_period_length, next_period, period_starting
from severa.proration import prorated_amount, remaining_period
from severa.vat import VatDecision
from subscriptions.pricebook import (
    ITEM_ADD_ON,
    ITEM_EDITION,
    ITEM_INTERFACE,
    ITEM_SEATS,
    ITEM_STORAGE,
    LINE_INCREASE,
    PriceBook,
    QuoteError,
)
from subscriptions.quote_lines import LineCollector, QuoteLine, lines_totals

_ONE_DAY = timedelta(days=1)


class TooFewSeatsError(QuoteError):
    """Seats would be scheduled below the users that will be active (§3.3)."""

    api_code = "too_few_seats"
    messages = {
        "too_few_seats": ngettext_lazy(
            "Deactivate %(count)s user before reducing seats to %(seats)s",
            "Deactivate %(count)s users before reducing seats to %(seats)s",
            "count",
        )
    }

    def __init__(self, code: str = "too_few_seats", /, *, count: int, seats: int) -> None:
        super().__init__(code, count=count, seats=seats)

    def api_fields(self) -> dict[str, Any]:
        return {"seats": [str(self)], "users_to_deactivate": self.users_to_deactivate}

    @property
    def users_to_deactivate(self) -> int:
        return self.params["count"]

    @property
    def seats(self) -> int:
        return self.params["seats"]


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """A subscription's chargeable shape during `period` (codes refer to a PriceBook)."""

    edition_code: str
    seats: int
    # Either a storage tier or the edition's included base (checked against the price book).
    storage_gb: int
    period_months: int
    period: Period
    currency: str
    add_ons: frozenset[str] = frozenset()
    interfaces: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if isinstance(self.seats, bool) or not isinstance(self.seats, int) or self.seats < 1:
            raise ValueError(f"seats must be a positive int, got {self.seats!r}")
        if isinstance(self.storage_gb, bool) or not isinstance(self.storage_gb, int):
            raise ValueError(f"storage_gb must be an int, got {self.storage_gb!r}")
        check_period_length(self.period_months)
        check_currency(self.currency)
        # The proration denominator is this period's day count, so it must really be one whole
        # billing period of `period_months` starting on a 1st (§3.2).
        if self.period != period_starting(self.period.start, self.period_months):
            raise ValueError(f"{self.period} is not a {self.period_months}-month period")
        object.__setattr__(self, "add_ons", frozenset(self.add_ons))
        object.__setattr__(self, "interfaces", frozenset(self.interfaces))


@dataclass(frozen=True, slots=True)
class ScheduledChange:
    """A decrease that takes effect on `effective_date`, neither charged nor credited now."""

    what: str
    item_code: str
    description: str
    effective_date: date
    # What the change is about (`severa.line_texts`); `description` is rendered from them
    # in the active language.
    text_kind: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quote:
    """The Agreement page: lines charged now, changes scheduled, and the next full period."""

    current: SubscriptionState
    # The desired state as it will be after the changes, i.e. without the add-ons that a lower
    # edition does not allow (those are in `removed_add_ons`).
    desired: SubscriptionState
    made_on: date
    vat_decision: VatDecision
    immediate_lines: tuple[QuoteLine, ...]
    immediate_net: Decimal
    immediate_vat: Decimal
    immediate_total: Decimal
    scheduled_changes: tuple[ScheduledChange, ...]
    removed_add_ons: tuple[str, ...]
    next_period: Period
    next_period_lines: tuple[QuoteLine, ...]
    next_period_net: Decimal
    next_period_vat: Decimal
    next_period_total: Decimal


def decrease_effective_date(
    *, period: Period, period_months: int, made_on: date, agreement_end: date | None = None
) -> date:
    """The day a decrease or a termination made on `made_on` takes effect (§3.3).

    Deadline rule: a decrease takes effect at the start of the next period if it is made on or
    before the last day of the current `period` (e.g. made by 2013-08-31 for a period ending
    2013-08-31 -> 2013-09-01); made later, it applies one period later (`period_months` long
    each). With a partner agreement (§3.2) it never takes effect before the day after
    `agreement_end`: the first period start after the agreement has ended.
    """
    check_period_length(period_months)
    deciding = period
    # Step whole periods rather than adding days or months to `made_on`: effective dates are
    # period starts (1st of a month), and stepping with `next_period` gets 28-31-day months and
    # leap years right without knowing any month's length.
    while made_on > deciding.end or (agreement_end is not None and agreement_end > deciding.end):
        deciding = next_period(deciding, period_months)
    return deciding.end + _ONE_DAY


def quote_build(
    *,
    current: SubscriptionState,
    desired: SubscriptionState,
    prices: PriceBook,
    today: date,
    active_users_at_next_period: int,
    vat: VatDecision,
    agreement_end: date | None = None,
) -> Quote:
    """Quote the change from `current` to `desired` made on `today` (DESIGN §3.3).

    Raises QuoteError when there is nothing to change, for unknown catalog codes, a storage
    size that is neither a tier nor the edition's base, an added add-on the desired edition
    does not allow, a different currency or period length, a quote date outside the current
    period, and (as TooFewSeatsError) seats scheduled below `active_users_at_next_period`.
    """
    _check_context(current=current, desired=desired, prices=prices, today=today)
    # An add-on already active is not refused on a lower edition: the edition change drops it.
    for state in (current, desired):
        prices.check_selection(
            edition=state.edition_code,
            storage_gb=state.storage_gb,
            add_ons=state.add_ons,
            interfaces=state.interfaces,
            added_add_ons=state.add_ons - current.add_ons,
        )
    # A lower edition drops the add-ons it does not allow, whether or not the form still
    # lists them; they are named so that the Agreement page can warn before confirmation.
    removed_add_ons = prices.add_ons_not_allowed(
        add_ons=current.add_ons, edition=desired.edition_code
    )
    desired = replace(desired, add_ons=desired.add_ons - set(removed_add_ons))
    if desired == current:
        raise QuoteError("nothing_to_change")
    if desired.seats < current.seats and desired.seats < active_users_at_next_period:
        raise TooFewSeatsError(
            count=active_users_at_next_period - desired.seats, seats=desired.seats
        )

    immediate = _increase_lines(
        current=current, desired=desired, prices=prices, today=today, vat=vat
    )
    effective_date = decrease_effective_date(
        period=current.period,
        period_months=current.period_months,
        made_on=today,
        agreement_end=agreement_end,
    )
    scheduled = _scheduled_changes(
        current=current,
        desired=desired,
        prices=prices,
        effective_date=effective_date,
        removed_add_ons=removed_add_ons,
    )
    following = next_period(current.period, desired.period_months)
    upcoming = prices.period_lines(
        edition=desired.edition_code,
        seats=desired.seats,
        storage_gb=desired.storage_gb,
        add_ons=desired.add_ons,
        interfaces=desired.interfaces,
        period=following,
        period_months=desired.period_months,
        vat=vat,
    )
    immediate_net, immediate_vat, immediate_total = lines_totals(
        lines=immediate, vat=vat, currency=current.currency
    )
    next_net, next_vat, next_total = lines_totals(
        lines=upcoming, vat=vat, currency=current.currency
    )
    return Quote(
        current=current,
        desired=desired,
        made_on=today,
        vat_decision=vat,
        immediate_lines=immediate,
        immediate_net=immediate_net,
        immediate_vat=immediate_vat,
        immediate_total=immediate_total,
        scheduled_changes=scheduled,
        removed_add_ons=removed_add_ons,
        next_period=following,
        next_period_lines=upcoming,
        next_period_net=next_net,
        next_period_vat=next_vat,
        next_period_total=next_total,
    )


def _check_context(
    *, current: SubscriptionState, desired: SubscriptionState, prices: PriceBook, today: date
) -> None:
    if not current.currency == desired.currency == prices.currency:
        # §3.5: a subscription keeps its currency for life.
        raise QuoteError(
            "currency_cannot_change",
            current=current.currency,
            desired=desired.currency,
            prices=prices.currency,
        )
    if desired.period != current.period or desired.period_months != current.period_months:
        raise QuoteError("period_cannot_change")
    if not current.period.contains(today):
        # Increases are charged pro rata for the current period, which needs today inside it;
        # a subscription whose period has ended must be rolled over first.
        raise QuoteError("outside_current_period", date=today, period=current.period)


def _increase_lines(
    *,
    current: SubscriptionState,
    desired: SubscriptionState,
    prices: PriceBook,
    today: date,
    vat: VatDecision,
) -> tuple[QuoteLine, ...]:
    """Lines for what becomes more expensive today, for the rest of the current period.

    For the rest of the period the subscription has the larger of each quantity: increases
    apply now, decreases only next period. So the edition is the higher-ranked one, seats and
    storage the larger, add-ons and interfaces the union. Each line charges the difference in
    price between that interim state and `current`; nothing is ever credited now.
    """

    def prorated(unit: Decimal, quantity: int) -> Decimal:
        # unit price per month × period months × quantity delta × remaining days / period days
        return prorated_amount(
            unit_price_per_month=unit,
            period_months=current.period_months,
            quantity_delta=quantity,
            period=current.period,
            effective_date=today,
            currency=current.currency,
        )

    lines = LineCollector(
        LINE_INCREASE, remaining_period(current.period, today), prorated, vat, current.currency
    )
    upgraded = prices.edition_rank(desired.edition_code) > prices.edition_rank(current.edition_code)
    edition_now = desired.edition_code if upgraded else current.edition_code
    seats_now = max(current.seats, desired.seats)
    old_edition = prices.edition(current.edition_code)
    new_edition = prices.edition(edition_now)
    # An upgrade with more seats is split so that the total is new price × new seats minus
    # old price × old seats: the difference on the seats already paid for, then the added
    # seats at the new edition's full price.
    editions = {
        "from_edition": old_edition.name,
        "from_edition_code": old_edition.code,
        "to_edition": new_edition.name,
        "to_edition_code": new_edition.code,
    }
    lines.add(
        ITEM_EDITION,
        new_edition.code,
        line_texts.EDITION_UPGRADE,
        editions,
        new_edition.price_per_seat_month - old_edition.price_per_seat_month,
        current.seats,
    )
    lines.add(
        ITEM_SEATS,
        new_edition.code,
        line_texts.SEATS_ADDITIONAL,
        {"edition": new_edition.name, "edition_code": new_edition.code},
        new_edition.price_per_seat_month,
        seats_now - current.seats,
    )
    if desired.storage_gb > current.storage_gb:
        # A larger tier costs the difference between the two tiers' prices (each free up to
        # its edition's included base).
        lines.add(
            ITEM_STORAGE,
            prices.storage_code(desired.storage_gb),
            line_texts.STORAGE_CHANGE,
            {"from_gb": current.storage_gb, "to_gb": desired.storage_gb},
            prices.storage_price(gigabytes=desired.storage_gb, edition=edition_now)
            - prices.storage_price(gigabytes=current.storage_gb, edition=current.edition_code),
            1,
        )
    for code in sorted(current.add_ons | desired.add_ons):
        add_on = prices.add_on(code)
        if prices.add_on_included(add_on=code, edition=edition_now):
            continue
        was_charged = code in current.add_ons and not prices.add_on_included(
            add_on=code, edition=current.edition_code
        )
        text_kind = line_texts.ADD_ON
        if add_on.is_per_seat:
            # A per-seat add-on follows the seats: all seats when it is new, the added seats
            # when it was already paid for.
            quantity = seats_now - (current.seats if was_charged else 0)
            if was_charged:
                text_kind = line_texts.ADD_ON_ADDITIONAL_SEATS
        else:
            quantity = 0 if was_charged else 1
        params = {"add_on": add_on.name, "add_on_code": code}
        lines.add(ITEM_ADD_ON, code, text_kind, params, add_on.price_per_month, quantity)
    for code in sorted(desired.interfaces - current.interfaces):
        interface = prices.interface(code)
        lines.add(
            ITEM_INTERFACE,
            code,
            line_texts.INTERFACE,
            {"interface": interface.name, "interface_code": code},
            interface.price_per_month,
            1,
        )
    return tuple(lines.lines)


def _scheduled_changes(
    *,
    current: SubscriptionState,
    desired: SubscriptionState,
    prices: PriceBook,
    effective_date: date,
    removed_add_ons: tuple[str, ...],
) -> tuple[ScheduledChange, ...]:
    changes: list[ScheduledChange] = []

    def schedule(what: str, code: str, text_kind: str, params: dict[str, Any]) -> None:
        description = line_texts.line_text(text_kind, params)
        changes.append(ScheduledChange(what, code, description, effective_date, text_kind, params))

    old_edition = prices.edition(current.edition_code)
    new_edition = prices.edition(desired.edition_code)
    if new_edition.rank < old_edition.rank:
        schedule(
            ITEM_EDITION,
            new_edition.code,
            line_texts.EDITION_DOWNGRADE,
            {
                "from_edition": old_edition.name,
                "from_edition_code": old_edition.code,
                "to_edition": new_edition.name,
                "to_edition_code": new_edition.code,
            },
        )
    if desired.seats < current.seats:
        schedule(
            ITEM_SEATS,
            new_edition.code,
            line_texts.SEATS_DECREASE,
            {"from_seats": current.seats, "to_seats": desired.seats},
        )
    if desired.storage_gb < current.storage_gb:
        schedule(
            ITEM_STORAGE,
            prices.storage_code(desired.storage_gb),
            line_texts.STORAGE_CHANGE,
            {"from_gb": current.storage_gb, "to_gb": desired.storage_gb},
        )
    for code in sorted(current.add_ons - desired.add_ons):
        params = {"add_on": prices.add_on(code).name, "add_on_code": code}
        if code in removed_add_ons:
            params |= {"edition": new_edition.name, "edition_code": new_edition.code}
            schedule(ITEM_ADD_ON, code, line_texts.ADD_ON_REMOVAL_NOT_AVAILABLE, params)
        else:
            schedule(ITEM_ADD_ON, code, line_texts.ADD_ON_REMOVAL, params)
    for code in sorted(current.interfaces - desired.interfaces):
        schedule(
            ITEM_INTERFACE,
            code,
            line_texts.INTERFACE_REMOVAL,
            {"interface": prices.interface(code).name, "interface_code": code},
        )
    return tuple(changes)
