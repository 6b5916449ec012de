"""What the subscription API shows, read inside the tenant's scope: the catalog with
today's prices, the subscription with its pending changes and upcoming period, a stored quote.

Each function returns the plain dict its response serializer in
`api.subscriptions.serializers` documents; amounts stay `Decimal` (or the decimal strings a
quote stored) until the serializer writes them.
"""

from __future__ import annotations

from collections import defaultdict

from api.fields import seller_code
from severa import clock
from severa.line_texts import line_text_of, vat_note_text
from severa.vat import VAT_NOTE_KINDS
from subscriptions.catalog import prices_valid_on
from subscriptions.models import (
    AddOn,
    Edition,
    Interface,
    Price,
    Quote,
    StorageTier,
    Subscription,
)
from subscriptions.pricebook import QuoteError
from subscriptions.selectors import active_licences, pending_changes, upcoming_period_price


def _current_prices() -> dict[tuple[str, int], list[Price]]:
    """Today's price rows per catalog item, one per currency (`prices_valid_on`)."""
    latest = prices_valid_on(on=clock.today())
    grouped: dict[tuple[str, int], list[Price]] = defaultdict(list)
    for (field, item_id, _currency), price in sorted(latest.items()):
        grouped[(field, item_id)].append(price)
    return grouped


def _price_rows(prices: list[Price]) -> list[dict]:
    return [
        {
            "currency": price.currency,
            "amount_per_month": price.amount_per_month,
            "valid_from": price.valid_from,
            "valid_until": price.valid_until,
        }
        for price in prices
    ]


def catalog_read() -> dict:
    prices = _current_prices()
    return {
        "priced_on": clock.today(),
        "editions": [
            {
                "code": edition.code,
                "name": edition.name,
                "rank": edition.rank,
                "included_storage_gb": edition.included_storage_gb,
                "prices": _price_rows(prices[("edition_id", edition.pk)]),
            }
            for edition in Edition.objects.order_by("rank")
        ],
        "add_ons": [
            {
                "code": add_on.code,
                "name": add_on.name,
                "pricing": add_on.pricing,
                "minimum_edition": add_on.minimum_edition.code if add_on.minimum_edition else None,
                "included_in": sorted(edition.code for edition in add_on.included_in.all()),
                "prices": _price_rows(prices[("add_on_id", add_on.pk)]),
            }
            for add_on in AddOn.objects.select_related("minimum_edition")
            .prefetch_related("included_in")
            .order_by("name", "code")
        ],
        "interfaces": [
            {
                "code": interface.code,
                "name": interface.name,
                "system": interface.system,
                "prices": _price_rows(prices[("interface_id", interface.pk)]),
            }
            for interface in Interface.objects.order_by("name", "code")
        ],
        "storage_tiers": [
            {
                "code": tier.code,
                "gigabytes": tier.gigabytes,
                "prices": _price_rows(prices[("storage_tier_id", tier.pk)]),
            }
            for tier in StorageTier.objects.order_by("gigabytes")
        ],
    }


def _line_row(line) -> dict:
    return {
        "kind": line.kind,
        "item_type": line.item_type,
        "code": line.item_code,
        "description": line.description,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "period_start": line.period.start,
        "period_end": line.period.end,
        "net": line.net,
        "vat_rate": line.vat_rate,
        "vat_category": line.vat_category,
        "vat": line.vat,
        "total": line.total,
    }


def _upcoming_period(subscription: Subscription) -> dict | None:
    try:
        priced = upcoming_period_price(subscription=subscription)
    except QuoteError:
        # The planned items are not all in the price list valid when the period starts (a
        # price ended): the renewal cannot be previewed, which is not the caller's error.
        return None
    if priced is None:
        return None
    return {
        "start": priced.period.start,
        "end": priced.period.end,
        "lines": [_line_row(line) for line in priced.lines],
        "vat": {
            "category": priced.vat_decision.category,
            "rate": priced.vat_decision.rate,
            "note": vat_note_text(priced.vat_decision.note_kind, default=priced.vat_decision.note),
        },
        "totals": {"net": priced.net, "vat": priced.vat, "total": priced.total},
    }


def subscription_read(subscription: Subscription) -> dict:
    """The subscription as `SubscriptionSerializer` shows it (inside the tenant's scope)."""
    return {
        "edition": subscription.edition.code,
        "edition_name": subscription.edition.name,
        "seats": subscription.seats,
        "active_users": active_licences(tenant=subscription.tenant),
        "storage_gb": subscription.storage_gb,
        "add_ons": list(subscription.add_ons),
        "interfaces": list(subscription.interfaces),
        "period_months": subscription.period_months,
        "period_start": subscription.period_start,
        "period_end": subscription.period_end,
        "currency": subscription.currency,
        "seller": seller_code(subscription.seller),
        "agreement_end": subscription.agreement_end,
        "status": subscription.status,
        "version": subscription.version,
        "scheduled_changes": list(pending_changes(subscription=subscription)),
        "upcoming_period": _upcoming_period(subscription),
    }


def _vat_read(vat: dict) -> dict:
    # A quote's VAT note in the reader's language, like its lines.
    kind = vat.get("note_kind") or VAT_NOTE_KINDS.get(vat.get("note", ""), "")
    return {**vat, "note": vat_note_text(kind, default=vat.get("note", ""))}


def _content_lines(lines: list[dict]) -> list[dict]:
    # Nothing is issued yet: the texts are the reader's language's.
    return [
        {**line, "code": line.get("code", ""), "description": line_text_of(line)} for line in lines
    ]


def quote_read(quote: Quote) -> dict:
    """A stored quote's figures (`subscriptions.services.quote_content`) as `QuoteSerializer`
    shows them."""
    content = quote.content or {}
    lines = _content_lines(content.get("immediate_lines", []))
    scheduled = [
        {**change, "description": line_text_of(change)} for change in content.get("scheduled", [])
    ]
    empty_shape = {"edition": "", "seats": 0, "storage_gb": 0, "add_ons": [], "interfaces": []}
    following = content.get("next_period")
    return {
        "id": quote.pk,
        "status": quote.status,
        "made_on": quote.made_on,
        "subscription_version": quote.subscription_version,
        "currency": quote.currency,
        "terminate": bool(content.get("terminate")),
        "current": content.get("current", empty_shape),
        "desired": content.get("desired", empty_shape),
        "effective_now": content.get("effective_now", empty_shape),
        "vat": _vat_read(content.get("vat", {"category": "", "rate": "0", "note": ""})),
        "lines": lines,
        "totals": content.get("immediate", {"net": "0", "vat": "0", "total": "0"}),
        "changes": [
            {
                "description": line["description"],
                "effective_date": line["period_start"],
                "is_charged_now": True,
            }
            for line in lines
        ]
        + [
            {
                "description": change["description"],
                "effective_date": change["effective_date"],
                "is_charged_now": False,
            }
            for change in scheduled
        ],
        "scheduled_changes": scheduled,
        "removed_add_ons": content.get("removed_add_ons", []),
        "next_period": None
        if following is None
        else {
            "start": following["start"],
            "end": following["end"],
            "lines": _content_lines(following["lines"]),
            "vat": _vat_read(following["vat"]),
            "totals": {
                "net": following["net"],
                "vat": following["vat_amount"],
                "total": following["total"],
            },
        },
    }
