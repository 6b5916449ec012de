"""An issued invoice or credit note read into the plain values both e-invoice formats write.

Only what was stored when the invoice was issued is read: its own fields, its lines, the
seller and buyer snapshots (``billing.invoicing.seller_snapshot`` and
``invoice_buyer_snapshot``) and, for a credit note, the number and date of the invoice it
credits. Today's seller entity, billing details or catalog never enter an issued document,
so generating it twice gives the same bytes.

Amounts keep the signs they were stored with: a credit note's lines and totals are negative.
Finvoice writes them so; UBL's CreditNote wants them positive and flips them itself.

Lines carry no VAT amount of their own (VAT is computed once per category and rate on the
summed net, ``billing.invoicing.vat_breakdown``, the same function that computed the stored
totals), so neither format writes a per-line VAT amount.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Tenant
from billing.invoicing import VatGroup, vat_breakdown
from billing.models import Invoice, InvoiceKind, InvoiceLine
from severa.money import ROUNDING, ratio
from severa.vat import (
    CATEGORY_OUTSIDE_SCOPE,
    CATEGORY_REVERSE_CHARGE,
    EXEMPTION_REASON_OUTSIDE_SCOPE,
    EXEMPTION_REASON_REVERSE_CHARGE,
    NOTE_OUTSIDE_EU_VAT,
    NOTE_REVERSE_CHARGE,
)

FORMAT_FINVOICE = "finvoice"
FORMAT_PEPPOL = "peppol"

CATEGORY_ZERO_RATED = "Z"
CATEGORY_EXEMPT = "E"
# Categories whose VAT breakdown needs an exemption reason (EN 16931 BR-AE-10, BR-O-10,
# BR-E-10): the CEF VATEX code where one exists, and the default text.
EXEMPTION_REASONS: dict[str, tuple[str, str]] = {
    CATEGORY_REVERSE_CHARGE: (EXEMPTION_REASON_REVERSE_CHARGE, NOTE_REVERSE_CHARGE),
    CATEGORY_OUTSIDE_SCOPE: (EXEMPTION_REASON_OUTSIDE_SCOPE, NOTE_OUTSIDE_EU_VAT),
    CATEGORY_EXEMPT: ("", "Exempt from VAT"),
}
# Categories written without a VAT rate (EN 16931 BR-O-05).
CATEGORIES_WITHOUT_RATE = frozenset({CATEGORY_OUTSIDE_SCOPE})

# A line's net unit price is net / quantity, with as few decimals as keep
# quantity × price within half a cent of the net (Peppol R120 allows 0.02).
PRICE_TOLERANCE = Decimal("0.005")

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object) -> str:
    """A snapshot value as text XML can hold: no control characters, single spaces."""
    if value is None:
        return ""
    return " ".join(_CONTROL_CHARACTERS.sub("", str(value)).split())


@dataclass(frozen=True)
class Party:
    name: str
    street_address: str
    postal_code: str
    city: str
    # The country of the postal address, and the country the company is registered (and
    # taxed) in: the VAT decision and the business id follow the latter.
    address_country: str
    country: str
    business_id: str
    vat_number: str
    einvoice_address: str = ""
    einvoice_operator: str = ""
    peppol_id: str = ""

    @property
    def has_address(self) -> bool:
        return bool(self.street_address and self.city and self.postal_code)


@dataclass(frozen=True)
class Line:
    position: int
    description: str
    order_number: str
    period_start: datetime.date
    period_end: datetime.date
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    vat_category: str
    vat_rate: Decimal


@dataclass(frozen=True)
class EinvoiceDocument:
    invoice_id: int
    number: str
    is_credit_note: bool
    issue_date: datetime.date
    due_date: datetime.date
    issued_at: datetime.datetime
    currency: str
    reference: str
    seller: Party
    buyer: Party
    iban: str
    bic: str
    payment_terms_days: int | None
    lines: tuple[Line, ...]
    vat_groups: tuple[VatGroup, ...]
    net: Decimal
    vat: Decimal
    rounding: Decimal
    total: Decimal
    vat_note: str
    # The seller's number for the buyer (the tenant): Peppol wants a buyer reference (R003)
    # and the billing details have no field for one of the buyer's own.
    customer_number: str
    credited_number: str = ""
    credited_date: datetime.date | None = None

    @property
    def gross(self) -> Decimal:
        """Total with VAT before cash rounding (EN 16931 BT-112)."""
        return self.net + self.vat

    @property
    def lines_net(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal(0))

    @property
    def period_start(self) -> datetime.date | None:
        return min((line.period_start for line in self.lines), default=None)

    @property
    def period_end(self) -> datetime.date | None:
        return max((line.period_end for line in self.lines), default=None)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(line.vat_category for line in self.lines)

    @property
    def is_outside_scope(self) -> bool:
        """A sale outside the scope of VAT names no VAT numbers at all (BR-O-02)."""
        return CATEGORY_OUTSIDE_SCOPE in self.categories

    def exemption_reason(self, category: str) -> tuple[str, str]:
        """(VATEX code, text) for a category's VAT breakdown; ("", "") where none is due.
        The text is the invoice's own VAT note where it has one."""
        if category not in EXEMPTION_REASONS:
            return "", ""
        code, default_text = EXEMPTION_REASONS[category]
        return code, self.vat_note or default_text


def _party(snapshot: Any, *, extra: bool) -> Party:
    data = snapshot if isinstance(snapshot, dict) else {}
    country = clean_text(data.get("country")).upper()
    return Party(
        name=clean_text(data.get("name")),
        street_address=clean_text(data.get("street_address")),
        postal_code=clean_text(data.get("postal_code")),
        city=clean_text(data.get("city")),
        address_country=clean_text(data.get("address_country")).upper() or country,
        country=country,
        business_id=clean_text(data.get("business_id")),
        vat_number=clean_text(data.get("vat_number")),
        einvoice_address=clean_text(data.get("einvoice_address")).upper() if extra else "",
        einvoice_operator=clean_text(data.get("einvoice_operator")).upper() if extra else "",
        # The buyer's, or the seller's own (frozen with the seller since it has one).
        peppol_id=clean_text(data.get("peppol_id")),
    )


def _line(line: InvoiceLine, customer: str = "") -> Line:
    # A partner's consolidated invoice names each line's customer in its description.
    description = f"{customer}: {line.description}" if customer else line.description
    return Line(
        position=line.position,
        description=clean_text(description),
        order_number=clean_text(line.order_number),
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=Decimal(line.quantity),
        unit_price=Decimal(line.unit_price),
        net=Decimal(line.net),
        vat_category=line.vat_category,
        vat_rate=Decimal(line.vat_rate),
    )


def einvoice_read(invoice: Invoice) -> EinvoiceDocument:
    """Read an issued invoice or credit note (its lines: one query, none if prefetched)."""
    model_lines = sorted(invoice.lines.all(), key=lambda line: line.position)
    customers: dict[int, str] = {}
    if invoice.partner_id is not None:
        customers = dict(
            Tenant.objects.filter(pk__in={line.tenant_id for line in model_lines}).values_list(
                "pk", "name"
            )
        )
    seller = invoice.seller_snapshot if isinstance(invoice.seller_snapshot, dict) else {}
    terms = seller.get("payment_terms_days")
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    return EinvoiceDocument(
        invoice_id=invoice.pk,
        number=invoice.display_number,
        is_credit_note=invoice.kind == InvoiceKind.CREDIT_NOTE,
        issue_date=invoice.invoice_date,
        due_date=invoice.due_date,
        issued_at=invoice.issued_at,
        currency=invoice.currency,
        reference=clean_text(invoice.reference).replace(" ", ""),
        seller=_party(seller, extra=False),
        buyer=_party(invoice.buyer_snapshot, extra=True),
        iban=clean_text(seller.get("iban")).replace(" ", "").upper(),
        bic=clean_text(seller.get("bic")).upper(),
        payment_terms_days=terms if isinstance(terms, int) else None,
        lines=tuple(_line(line, customers.get(line.tenant_id, "")) for line in model_lines),
        vat_groups=tuple(vat_breakdown(lines=model_lines, currency=invoice.currency)),
        net=Decimal(invoice.net),
        vat=Decimal(invoice.vat),
        rounding=Decimal(invoice.rounding),
        total=Decimal(invoice.total),
        vat_note=clean_text(invoice.vat_note),
        # A partner's number is told apart from the tenants' by its prefix.
        customer_number=str(invoice.tenant_id)
        if invoice.partner_id is None
        else f"P{invoice.partner_id}",
        credited_number=credited.display_number if credited is not None else "",
        credited_date=credited.invoice_date if credited is not None else None,
    )


def einvoice_format(invoice: Invoice) -> str | None:
    """How this invoice is delivered electronically, by the buyer's billing details as
    frozen on it (DESIGN §3.6): Finvoice to an eInvoice address with its operator, else
    Peppol BIS to a Peppol participant id; None when the buyer has neither."""
    buyer = invoice.buyer_snapshot if isinstance(invoice.buyer_snapshot, dict) else {}
    if buyer.get("einvoice_address") and buyer.get("einvoice_operator"):
        return FORMAT_FINVOICE
    if buyer.get("peppol_id"):
        return FORMAT_PEPPOL
    return None


def line_quantity_and_price(
    net: Decimal, quantity: Decimal, *, max_decimals: int
) -> tuple[Decimal, Decimal]:
    """(quantity, net unit price) to write for a line of `net`.

    A line's stored unit price is a monthly list price, and a prorated line's net is that
    price × months × quantity × days / days in the period: quantity × list price is not its
    net. E-invoices check quantity × net unit price = line net (Peppol R120, ±0.02), so the
    net unit price is derived: net / quantity with the fewest decimals (2 to `max_decimals`)
    that keep the product within half a cent. A price is never negative (BR-27): a negative
    net takes a negative quantity. A line without a quantity counts as one unit.
    """
    if quantity == 0:
        quantity = Decimal(1)
    magnitude = abs(quantity)
    signed_quantity = magnitude if net >= 0 else -magnitude
    exact = ratio(abs(net), magnitude)
    price = exact
    for decimals in range(2, max_decimals + 1):
        price = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUNDING)
        if abs(price * magnitude - abs(net)) <= PRICE_TOLERANCE:
            break
    return signed_quantity, price


def decimal_text(value: Decimal) -> str:
    """A number without trailing zeros or exponent: 25.50 -> '25.5', 100 -> '100'."""
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in {"-0", ""} else text
