"""The catalog's monthly prices in one currency on one date, and the lines they price (§3.1).

A `PriceBook` is what a quote is computed from: editions (ordered by rank, price per seat per
month, included storage), add-ons (flat or per seat, optional minimum edition, editions that
include them), interfaces (flat) and storage tiers (flat). It is built by whoever reads the
catalog (a selector picks the `Price` rows valid on the quote date); this module never touches
the database or the clock, so the Agreement page, the upcoming-period preview and the billing
run price a subscription with the same code.

Because an order confirmation freezes the prices it used (§3.1), a price book is immutable and
carries the date its prices were valid on. `PriceBook.period_lines` prices a selection for a
whole period (the next period on the Agreement page, the preview, the renewal);
`subscriptions.quotes` prices the changes within a period with the same `LineCollector`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from severa import line_texts
from severa.errors import DomainError
from severa.money import check_currency, quantize
from severa.periods import Period, period_starting
from severa.vat import VatDecision
from subscriptions.prices import AddOnPrice, EditionPrice, InterfacePrice, StorageTierPrice
from subscriptions.quote_lines import LineCollector, QuoteLine

# QuoteLine.kind: "increase" lines are charged now, for the rest of the current period;
# "scheduled" lines are a whole coming period's charges, billed by the renewal at its start.
LINE_INCREASE = "increase"
LINE_SCHEDULED = "scheduled"

# What a line or a scheduled change is about.
ITEM_EDITION = "edition"
ITEM_SEATS = "seats"
ITEM_STORAGE = "storage"
ITEM_ADD_ON = "add_on"
ITEM_INTERFACE = "interface"


# The most seats a subscription may have: it keeps every figure inside its database column
# (seats × unit price × 12 months fits DecimalField(max_digits=14)).
MAX_SEATS = 100_000


class QuoteError(DomainError):
    """A change that cannot be quoted as asked; the message is meant for the tenant admin."""

    api_code = "quote_refused"
    messages = {
        "unknown_edition": _(
            "Unknown edition '%(code)s': not in the %(currency)s price list of %(date)s"
        ),
        "unknown_add_on": _(
            "Unknown add-on '%(code)s': not in the %(currency)s price list of %(date)s"
        ),
        "unknown_interface": _(
            "Unknown interface '%(code)s': not in the %(currency)s price list of %(date)s"
        ),
        "unknown_storage_tier": _(
            "Unknown storage tier '%(code)s': not in the %(currency)s price list of %(date)s"
        ),
        "storage_not_allowed": _(
            "%(storage_gb)s GB is neither a storage tier nor within the storage included in "
            "the %(edition)s edition"
        ),
        "storage_not_a_size": _(
            "%(storage_gb)s GB is not a storage size: choose one of %(choices)s"
        ),
        "add_on_not_in_edition": _("%(add_on)s is not available in the %(edition)s edition"),
        "seats_out_of_range": _("The number of seats is from 1 to %(max)s"),
        "nothing_to_change": _("Nothing to change"),
        "nothing_to_change_scheduled": _(
            "Nothing to change: the scheduled changes already give this"
        ),
        "same_as_today": _(
            "This is the subscription as it is today: cancel the scheduled changes instead"
        ),
        "invalid_selection": _("These choices are not valid: %(reason)s"),
        "currency_cannot_change": _(
            "Currency cannot change: subscription in %(current)s, asked for %(desired)s, "
            "prices in %(prices)s"
        ),
        "period_cannot_change": _("The billing period cannot be changed by a quote"),
        "outside_current_period": _(
            "The quote date %(date)s is outside the current period %(period)s; roll the "
            "subscription over first"
        ),
        "period_ended": _(
            "The current period %(period)s has ended; the subscription is renewed first"
        ),
        "subscription_ended": _("This subscription has ended"),
        "first_period_not_first_of_month": _("Periods start on the 1st of a month."),
        "first_period_too_far": _(
            "At most a year ahead: the first period starts on %(latest)s at the latest."
        ),
        "termination_pending": _(
            "The subscription ends on %(date)s: cancel the termination before making other changes"
        ),
        "termination_too_early": _(
            "The agreement runs until %(agreement_end)s: it can be terminated from %(opens)s "
            "on, effective %(effective)s"
        ),
        "downgrade_not_self_service": _(
            "A downgrade can lose the customer's data and is not self-service: "
            "request it on the customer's page of the partner portal."
        ),
        "vat_undecided": _("VAT cannot be decided for %(tenant)s: %(reason)s"),
        "already_subscribed": _("%(tenant)s already has a subscription"),
        "no_bank_account": _("%(seller)s has no bank account in %(currency)s"),
        "seats_below_active_users": ngettext_lazy(
            "%(tenant)s has %(count)s active user: at least that many seats are needed",
            "%(tenant)s has %(count)s active users: at least that many seats are needed",
            "count",
        ),
        "renewal_below_active_users": ngettext_lazy(
            "%(active)s users are active but the renewal would bill %(seats)s seats: "
            "deactivate %(count)s user or add seats",
            "%(active)s users are active but the renewal would bill %(seats)s seats: "
            "deactivate %(count)s users or add seats",
            "count",
        ),
    }


@dataclass(frozen=True, slots=True)
class PriceBook:
    """Monthly prices of every catalog item in `currency`, valid on `priced_on`."""

    currency: str
    priced_on: date
    editions: tuple[EditionPrice, ...]
    add_ons: tuple[AddOnPrice, ...] = ()
    interfaces: tuple[InterfacePrice, ...] = ()
    storage_tiers: tuple[StorageTierPrice, ...] = ()
    _editions: dict[str, EditionPrice] = field(init=False, repr=False, compare=False)
    _add_ons: dict[str, AddOnPrice] = field(init=False, repr=False, compare=False)
    _interfaces: dict[str, InterfacePrice] = field(init=False, repr=False, compare=False)
    _tiers: dict[int, StorageTierPrice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_currency(self.currency)
        for name in ("editions", "add_ons", "interfaces", "storage_tiers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "_editions", _index(self.editions, "edition"))
        object.__setattr__(self, "_add_ons", _index(self.add_ons, "add-on"))
        object.__setattr__(self, "_interfaces", _index(self.interfaces, "interface"))
        tiers = {tier.gigabytes: tier for tier in self.storage_tiers}
        if len(tiers) != len(self.storage_tiers):
            raise ValueError("storage tiers must have distinct sizes")
        object.__setattr__(self, "_tiers", tiers)
        # Editions are ordered by rank (§3.1); two editions of the same rank would make
        # "upgrade" ambiguous.
        if len({edition.rank for edition in self.editions}) != len(self.editions):
            raise ValueError("editions must have distinct ranks")
        for add_on in self.add_ons:
            referenced = set(add_on.included_in)
            if add_on.minimum_edition is not None:
                referenced.add(add_on.minimum_edition)
            unknown = referenced - set(self._editions)
            if unknown:
                raise ValueError(f"add-on {add_on.code} refers to unknown editions {unknown}")

    # Lookups. Unknown codes are a QuoteError: they come from a tenant's state or form, and
    # the message must say which code is not sold in this currency on this date.

    def _unknown(self, refusal: str, code: object) -> QuoteError:
        return QuoteError(refusal, code=code, currency=self.currency, date=self.priced_on)

    def edition(self, code: str) -> EditionPrice:
        try:
            return self._editions[code]
        except KeyError:
            raise self._unknown("unknown_edition", code) from None

    def add_on(self, code: str) -> AddOnPrice:
        try:
            return self._add_ons[code]
        except KeyError:
            raise self._unknown("unknown_add_on", code) from None

    def interface(self, code: str) -> InterfacePrice:
        try:
            return self._interfaces[code]
        except KeyError:
            raise self._unknown("unknown_interface", code) from None

    def storage_tier(self, gigabytes: int) -> StorageTierPrice:
        try:
            return self._tiers[gigabytes]
        except KeyError:
            raise self._unknown("unknown_storage_tier", f"{gigabytes} GB") from None

    def storage_code(self, gigabytes: int) -> str:
        # An edition's included base need not be a tier of its own.
        tier = self._tiers.get(gigabytes)
        return tier.code if tier is not None else f"storage-{gigabytes}gb"

    # Rules.

    def edition_rank(self, code: str) -> int:
        return self.edition(code).rank

    def add_on_included(self, *, add_on: str, edition: str) -> bool:
        """Whether `edition` includes `add_on` at no charge."""
        self.edition(edition)
        return edition in self.add_on(add_on).included_in

    def add_on_allowed(self, *, add_on: str, edition: str) -> bool:
        """Whether `add_on` may be active on `edition`: included there, or the edition is at
        least the add-on's minimum edition."""
        item = self.add_on(add_on)
        if self.add_on_included(add_on=add_on, edition=edition):
            return True
        if item.minimum_edition is None:
            return True
        return self.edition_rank(edition) >= self.edition_rank(item.minimum_edition)

    def add_ons_not_allowed(self, *, add_ons: Iterable[str], edition: str) -> tuple[str, ...]:
        """The codes among `add_ons` that `edition` does not allow, sorted."""
        return tuple(
            sorted(
                code for code in add_ons if not self.add_on_allowed(add_on=code, edition=edition)
            )
        )

    def storage_allowed(self, *, gigabytes: int, edition: str) -> bool:
        """A subscription's storage is a tier from the drop-down or the edition's included base.

        Anything up to the base is accepted as "the base": after an upgrade to an edition with
        a larger base, the old base (e.g. 10 GB) is simply covered, so an edition change does
        not force the storage to change too.
        """
        if isinstance(gigabytes, bool) or not isinstance(gigabytes, int) or gigabytes < 0:
            return False
        return gigabytes in self._tiers or gigabytes <= self.edition(edition).included_storage_gb

    def storage_sizes(self, *, edition: str) -> tuple[int, ...]:
        """The sizes a change of storage may ask for on `edition`: its included base, then
        every tier above it."""
        base = self.edition(edition).included_storage_gb
        return (
            base,
            *sorted(tier.gigabytes for tier in self.storage_tiers if tier.gigabytes > base),
        )

    def storage_asked(self, *, chosen: int, planned: int, edition: str) -> int:
        """The storage a choice of `chosen` GB asks for when `planned` GB is planned: choosing
        the included base keeps a planned size that the base covers too (an older, smaller
        base after an upgrade), so that it is no change."""
        base = self.edition(edition).included_storage_gb
        if chosen <= base and planned <= base:
            return planned
        return chosen

    def selection_refusals(
        self,
        *,
        edition: str,
        storage_gb: int | None,
        add_ons: Iterable[str],
        interfaces: Iterable[str],
        seats: int | None = None,
        added_add_ons: Iterable[str] | None = None,
    ) -> dict[str, list[QuoteError]]:
        """Per field (``edition``, ``seats``, ``storage_gb``, ``add_ons``, ``interfaces``), why
        this price book does not sell the selection; empty when it does (§3.1).

        Every code must be sold here, the storage must be allowed on the edition (None: the
        edition's included base), the seats within 1 to `MAX_SEATS` (None: not checked), and
        each of `added_add_ons` (all of `add_ons` unless given: an add-on already active stays
        until an edition change drops it) allowed on the edition.
        """
        add_ons, interfaces = sorted(set(add_ons)), sorted(set(interfaces))
        added = add_ons if added_add_ons is None else sorted(set(added_add_ons))
        found: list[tuple[str, QuoteError]] = []
        for code in add_ons:
            if code not in self._add_ons:
                found.append(("add_ons", self._unknown("unknown_add_on", code)))
        for code in interfaces:
            if code not in self._interfaces:
                found.append(("interfaces", self._unknown("unknown_interface", code)))
        item = self._editions.get(edition)
        if item is None:
            found.append(("edition", self._unknown("unknown_edition", edition)))
        else:
            if storage_gb is not None and not self.storage_allowed(
                gigabytes=storage_gb, edition=edition
            ):
                found.append(
                    (
                        "storage_gb",
                        QuoteError("storage_not_allowed", storage_gb=storage_gb, edition=item.name),
                    )
                )
            if not any(field == "add_ons" for field, _error in found):
                for code in self.add_ons_not_allowed(add_ons=added, edition=edition):
                    found.append(
                        (
                            "add_ons",
                            QuoteError(
                                "add_on_not_in_edition",
                                add_on=self.add_on(code).name,
                                edition=item.name,
                            ),
                        )
                    )
        if seats is not None and (
            isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= MAX_SEATS
        ):
            found.append(("seats", QuoteError("seats_out_of_range", max=MAX_SEATS)))
        refusals: dict[str, list[QuoteError]] = {}
        for field_name, error in found:
            refusals.setdefault(field_name, []).append(error)
        return refusals

    def check_selection(
        self,
        *,
        edition: str,
        storage_gb: int | None,
        add_ons: Iterable[str],
        interfaces: Iterable[str],
        seats: int | None = None,
        added_add_ons: Iterable[str] | None = None,
    ) -> None:
        """Raise the first of `selection_refusals` (a QuoteError), if any: what may be sold."""
        refusals = self.selection_refusals(
            edition=edition,
            storage_gb=storage_gb,
            add_ons=add_ons,
            interfaces=interfaces,
            seats=seats,
            added_add_ons=added_add_ons,
        )
        for errors in refusals.values():
            raise errors[0]

    # Monthly unit prices.

    def edition_price_per_seat(self, code: str) -> Decimal:
        return self.edition(code).price_per_seat_month

    def add_on_price(self, code: str) -> Decimal:
        """Per month for a flat add-on, per seat per month for a per-seat one."""
        return self.add_on(code).price_per_month

    def interface_price(self, code: str) -> Decimal:
        return self.interface(code).price_per_month

    def storage_price(self, *, gigabytes: int, edition: str) -> Decimal:
        """Monthly price of `gigabytes` of storage on `edition`.

        Up to the edition's included base the storage costs nothing; above it the chosen
        tier's own price applies in full (a tier's price is the price of the whole tier, not
        of the gigabytes above the base).
        """
        if gigabytes <= self.edition(edition).included_storage_gb:
            return Decimal(0)
        return self.storage_tier(gigabytes).price_per_month

    def period_lines(
        self,
        *,
        edition: str,
        seats: int,
        storage_gb: int,
        add_ons: Iterable[str],
        interfaces: Iterable[str],
        period: Period,
        period_months: int,
        vat: VatDecision,
    ) -> tuple[QuoteLine, ...]:
        """A selection priced for the whole of `period`: unit × period months × quantity.

        The next full period on the Agreement page, the upcoming-period preview and the
        renewal price the same way. Items that cost nothing (add-ons included in the edition,
        storage within the included base) make no line.
        """

        if period != period_starting(period.start, period_months):
            raise ValueError(f"{period} is not a {period_months}-month period")

        def whole(unit: Decimal, quantity: int) -> Decimal:
            return quantize(unit * period_months * quantity, self.currency)

        lines = LineCollector(LINE_SCHEDULED, period, whole, vat, self.currency)
        item = self.edition(edition)
        lines.add(
            ITEM_SEATS,
            item.code,
            line_texts.SEATS,
            {"edition": item.name, "edition_code": item.code},
            item.price_per_seat_month,
            seats,
        )
        if storage_gb > item.included_storage_gb:
            tier = self.storage_tier(storage_gb)
            lines.add(
                ITEM_STORAGE,
                tier.code,
                line_texts.STORAGE,
                {"gb": tier.gigabytes},
                tier.price_per_month,
                1,
            )
        for code in sorted(add_ons):
            if self.add_on_included(add_on=code, edition=edition):
                continue
            add_on = self.add_on(code)
            quantity = seats if add_on.is_per_seat else 1
            lines.add(
                ITEM_ADD_ON,
                code,
                line_texts.ADD_ON,
                {"add_on": add_on.name, "add_on_code": code},
                add_on.price_per_month,
                quantity,
            )
        for code in sorted(interfaces):
            interface = self.interface(code)
            lines.add(
                ITEM_INTERFACE,
                code,
                line_texts.INTERFACE,
                {"interface": interface.name, "interface_code": code},
                interface.price_per_month,
                1,
            )
        return tuple(lines.lines)


_Coded = TypeVar("_Coded", EditionPrice, AddOnPrice, InterfacePrice)


def _index(items: tuple[_Coded, ...], kind: str) -> dict[str, _Coded]:
    index = {item.code: item for item in items}
    if len(index) != len(items):
        raise ValueError(f"{kind} codes must be unique")
    return index
