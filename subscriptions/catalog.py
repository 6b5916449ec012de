"""Reading the catalog: the price book valid in one currency on one date (§3.1)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from severa.table_versions import tables_version
from subscriptions.models import AddOn, Edition, Interface, Price, StorageTier
from subscriptions.pricebook import PriceBook
from subscriptions.prices import AddOnPrice, EditionPrice, InterfacePrice, StorageTierPrice

# The tables a price book is built from: a versioned read that prices anything declares them
# (severa/table_versions.py).
CATALOG_SOURCES = (AddOn, AddOn.included_in.through, Edition, Interface, Price, StorageTier)


# The fields of `Price` naming the catalog item it prices (exactly one is set).
PRICED_ITEM_FIELDS = ("edition_id", "add_on_id", "interface_id", "storage_tier_id")


def prices_valid_on(*, on: date, currency: str | None = None) -> dict[tuple[str, int, str], Price]:
    """The price of each catalog item in each currency (only `currency`, when given) valid on
    `on`, keyed by (item field, item id, currency): where validity ranges overlap, the one
    that started last wins (§3.1)."""
    rows = Price.objects.filter(valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )
    if currency is not None:
        rows = rows.filter(currency=currency)
    latest: dict[tuple[str, int, str], Price] = {}
    for price in rows.order_by("valid_from", "id"):
        for field in PRICED_ITEM_FIELDS:
            item_id = getattr(price, field)
            if item_id is not None:
                latest[(field, item_id, price.currency)] = price
    return latest


# Price books are rebuilt only when the catalog changes: each process keeps the books it built
# under the versions of the catalog's tables (severa/table_versions.py), which every committed
# write to one of them replaces.
_MEMO_LIMIT = 64
_memo: dict[tuple[str, str, date], PriceBook] = {}


def price_book(*, currency: str, on: date) -> PriceBook:
    """The price book of `currency` on `on` (see `price_book_build`), built once per catalog
    change and process."""
    token = tables_version(CATALOG_SOURCES)
    if token is None:  # this transaction changed the catalog: its own rows, kept nowhere
        return price_book_build(currency=currency, on=on)
    key = (token, currency, on)
    book = _memo.get(key)
    if book is None:
        book = price_book_build(currency=currency, on=on)
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[key] = book
    return book


def price_book_build(*, currency: str, on: date) -> PriceBook:
    """Every catalog item that has a price in `currency` valid on `on`, at that price.

    Items without such a price are not sold in that currency on that date; asking a quote for
    one is answered by the price book with "not in the price list".
    """
    amounts = {
        (field, item_id): price.amount_per_month
        for (field, item_id, _currency), price in prices_valid_on(on=on, currency=currency).items()
    }

    editions = [e for e in Edition.objects.all() if ("edition_id", e.pk) in amounts]
    # Only editions sold in this currency can be referred to by an add-on's rules.
    edition_codes = {edition.pk: edition.code for edition in editions}
    add_ons = AddOn.objects.prefetch_related("included_in").select_related("minimum_edition")
    return PriceBook(
        currency=currency,
        priced_on=on,
        editions=tuple(
            EditionPrice(
                edition.code,
                edition.name,
                edition.rank,
                edition.included_storage_gb,
                amounts[("edition_id", edition.pk)],
            )
            for edition in editions
        ),
        add_ons=tuple(
            AddOnPrice(
                add_on.code,
                add_on.name,
                add_on.pricing,
                amounts[("add_on_id", add_on.pk)],
                add_on.minimum_edition.code if add_on.minimum_edition else None,
                frozenset(
                    edition_codes[e.pk] for e in add_on.included_in.all() if e.pk in edition_codes
                ),
            )
            for add_on in add_ons
            if ("add_on_id", add_on.pk) in amounts
            and (add_on.minimum_edition_id is None or add_on.minimum_edition_id in edition_codes)
        ),
        interfaces=tuple(
            InterfacePrice(interface.code, interface.name, amounts[("interface_id", interface.pk)])
            for interface in Interface.objects.all()
            if ("interface_id", interface.pk) in amounts
        ),
        storage_tiers=tuple(
            StorageTierPrice(tier.gigabytes, amounts[("storage_tier_id", tier.pk)], tier.code)
            for tier in StorageTier.objects.all()
            if ("storage_tier_id", tier.pk) in amounts
        ),
    )
