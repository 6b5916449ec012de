"""Order confirmation documents (DESIGN §3.6, §3.7): what an order shows, and its PDF.

`order_document` reads a stored order into plain values (parties, lines, totals and the
parsed `summary`); the order page, the API and the PDF all show that same reading.
`order_confirmation_pdf` renders it with WeasyPrint from `templates/documents/` through
`severa.pdf` (local static files only, never the network).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel import Locale
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from accounts.locale_format import babel_locale

# BASE_URL and LocalStaticFetcher are re-exported for the order tests and benchmark.
from severa.pdf import BASE_URL as BASE_URL
from severa.pdf import LocalStaticFetcher as LocalStaticFetcher
from severa.pdf import html_to_pdf
from subscriptions.models import ChangeKind, OrderConfirmation, OrderLine

DOCUMENT_TEMPLATE = "documents/order_confirmation.html"

PARTY_FIELDS = ("name", "business_id", "vat_number", "street_address", "postal_code", "city")


@dataclass(frozen=True)
class Party:
    name: str
    business_id: str
    vat_number: str
    street_address: str
    postal_code: str
    city: str
    country: str
    country_name: str
    # A seller's: where questions about its invoices and support requests go.
    invoicing_email: str = ""
    support_email: str = ""

    @property
    def postal_line(self) -> str:
        return " ".join(part for part in (self.postal_code, self.city) if part)


@dataclass(frozen=True)
class ScheduledItem:
    kind: str
    kind_label: str
    description: str
    effective_date: datetime.date | None


@dataclass(frozen=True)
class NextPeriodLine:
    description: str
    quantity: int | None
    unit_price: Decimal | None
    net: Decimal | None


@dataclass(frozen=True)
class NextPeriod:
    start: datetime.date | None
    end: datetime.date | None
    lines: tuple[NextPeriodLine, ...]
    net: Decimal | None
    vat: Decimal | None
    total: Decimal | None


@dataclass(frozen=True)
class OrderSummary:
    """`OrderConfirmation.summary` read into values; any key may be missing (a renewal has
    no scheduled changes, an old order may predate a key)."""

    scheduled: tuple[ScheduledItem, ...]
    removed_add_ons: tuple[str, ...]
    next_period: NextPeriod | None
    # A withdrawn termination (cancelled before it took effect).
    withdrawn: tuple[ScheduledItem, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.scheduled or self.removed_add_ons or self.next_period or self.withdrawn)


@dataclass(frozen=True)
class OrderDocument:
    order: OrderConfirmation
    seller: Party
    buyer: Party
    lines: tuple[OrderLine, ...]
    summary: OrderSummary
    confirmed_by: str
    language: str


def _decimal(value: object) -> Decimal | None:
    # The order service writes amounts into JSON as strings ("123.45"); anything else is
    # read through its text form, so no binary float rounding creeps in.
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def country_name(code: str, language: str) -> str:
    if not code:
        return ""
    locale = Locale.parse(babel_locale(language))
    return locale.territories.get(code.upper(), code)


def party_read(*, snapshot: object, language: str) -> Party:
    data = snapshot if isinstance(snapshot, dict) else {}
    country = _text(data.get("country"))
    return Party(
        **{field: _text(data.get(field)) for field in PARTY_FIELDS},
        country=country,
        country_name=country_name(country, language),
        invoicing_email=_text(data.get("invoicing_email")),
        support_email=_text(data.get("support_email")),
    )


def _next_period_vat(upcoming: dict) -> Decimal | None:
    # The order service stores the VAT decision as "vat": {"category", "rate", "note"} and the
    # amount as "vat_amount"; a plain "vat" amount is read too.
    if "vat_amount" in upcoming:
        return _decimal(upcoming["vat_amount"])
    vat = upcoming.get("vat")
    return None if isinstance(vat, dict) else _decimal(vat)


def _scheduled_items(items: object) -> tuple[ScheduledItem, ...]:
    read = []
    for item in items or ():
        if not isinstance(item, dict):
            continue
        kind = _text(item.get("kind"))
        kind_label = ChangeKind(kind).label if kind in ChangeKind.values else kind
        read.append(
            ScheduledItem(
                kind=kind,
                kind_label=str(kind_label),
                description=_text(item.get("description")),
                effective_date=_date(item.get("effective_date")),
            )
        )
    return tuple(read)


def order_summary_read(*, summary: object) -> OrderSummary:
    data = summary if isinstance(summary, dict) else {}
    scheduled = _scheduled_items(data.get("scheduled"))
    removed = tuple(_text(name) for name in data.get("removed_add_ons") or () if name)
    next_period = None
    upcoming = data.get("next_period")
    if isinstance(upcoming, dict) and upcoming:
        next_period = NextPeriod(
            start=_date(upcoming.get("start")),
            end=_date(upcoming.get("end")),
            lines=tuple(
                NextPeriodLine(
                    description=_text(line.get("description")),
                    quantity=_int(line.get("quantity")),
                    unit_price=_decimal(line.get("unit_price")),
                    net=_decimal(line.get("net")),
                )
                for line in upcoming.get("lines") or ()
                if isinstance(line, dict)
            ),
            net=_decimal(upcoming.get("net")),
            vat=_next_period_vat(upcoming),
            total=_decimal(upcoming.get("total")),
        )
    return OrderSummary(
        scheduled=scheduled,
        removed_add_ons=removed,
        next_period=next_period,
        withdrawn=_scheduled_items(data.get("withdrawn")),
    )


def order_document(*, order: OrderConfirmation, language: str | None = None) -> OrderDocument:
    """Everything an order confirmation shows. Reads the lines (one query) unless they were
    prefetched; `language` defaults to the active one."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    user = order.confirmed_by
    return OrderDocument(
        order=order,
        seller=party_read(snapshot=order.seller_snapshot, language=language),
        buyer=party_read(snapshot=order.buyer_snapshot, language=language),
        lines=tuple(order.lines.all()),
        summary=order_summary_read(summary=order.summary),
        confirmed_by=(user.get_full_name() or user.username) if user is not None else "",
        language=language,
    )


def order_confirmation_html(*, order: OrderConfirmation) -> str:
    """The document's HTML in the tenant's language (money and dates formatted for it)."""
    language = order.tenant.language or settings.LANGUAGE_CODE
    with translation.override(language):
        document = order_document(order=order, language=language)
        return render_to_string(DOCUMENT_TEMPLATE, {"document": document, "order": order})


def order_confirmation_pdf(*, order: OrderConfirmation) -> bytes:
    """Render the order confirmation to PDF (A4). Slow (a third of a second): call it from a
    worker or the download fallback, never while holding a lock."""
    return html_to_pdf(order_confirmation_html(order=order))


def order_confirmation_filename(*, order: OrderConfirmation) -> str:
    return f"order-confirmation-{order.number}.pdf"
