"""The money rules of invoices and credit notes (DESIGN §3.4, §3.5): VAT decided on the
invoice date, totals per VAT group with cash rounding, the seller's and the buyer's
snapshots; and payments.

`billing.issuing` is the one path that issues invoices and credit notes with these rules.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ActorLike, AuditAction, audit_record
from accounts.models import Partner, Tenant, User
from billing.invoice_status import invoice_status_move
from billing.models import (
    BillingDetails,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Payment,
    SellerEntity,
)
from severa import clock
from severa.errors import DomainError
from severa.money import cash_round, quantize
from severa.parties import buyer_snapshot as party_snapshot
from severa.vat import VatDecision, buyer_vat_decision, vat_amount

logger = logging.getLogger(__name__)

# Currencies whose invoices are rounded to whole units where the seller enables it.
CASH_ROUNDED_CURRENCIES = frozenset({"SEK", "NOK"})


class InvoicingError(DomainError):
    """A refused invoicing action; the message is meant for an operator."""

    api_code = "invoicing_refused"
    api_codes = {
        "payment_not_positive": "payment_refused",
        "payment_on_credit_note": "payment_refused",
        "payment_exceeds_outstanding": "payment_refused",
        "credit_of_credit_note": "credit_note_refused",
        "line_not_on_invoice": "credit_note_refused",
        "credit_not_positive": "credit_note_refused",
        "credit_exceeds_line": "credit_note_refused",
        "nothing_left_to_credit": "credit_note_refused",
        "reissue_of_credit_note": "reissue_refused",
        "already_reissued": "reissue_refused",
        "reissue_of_credited": "reissue_refused",
    }
    messages = {
        "no_bank_account": _("%(seller)s has no bank account in %(currency)s"),
        "several_currencies": _(
            "%(buyer)s: orders in several currencies %(currencies)s from one seller"
        ),
        "payment_not_positive": _("A payment must be positive"),
        "payment_on_credit_note": _("Payments are registered on invoices, not credit notes"),
        "payment_exceeds_outstanding": _(
            "%(amount)s %(currency)s exceeds the %(outstanding)s %(currency)s outstanding on "
            "invoice %(invoice)s"
        ),
        "credit_of_credit_note": _("Only an invoice can be credited"),
        "line_not_on_invoice": _("Line %(line)s is not on invoice %(invoice)s"),
        "credit_not_positive": _("An amount to credit must be positive"),
        "credit_exceeds_line": _(
            "Line %(line)s has %(left)s %(currency)s left to credit, not %(amount)s"
        ),
        "nothing_left_to_credit": _("Invoice %(invoice)s has nothing left to credit"),
        "reissue_of_credit_note": _("Only an invoice can be reissued, not a credit note."),
        "already_reissued": _("Invoice %(invoice)s was already reissued as %(reissued)s."),
        "reissue_of_credited": _(
            "Invoice %(invoice)s is already credited; only an invoice without credit "
            "notes can be reissued."
        ),
    }


@dataclass(frozen=True)
class VatGroup:
    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal


def invoice_vat_decision(
    *, seller: SellerEntity, tenant: Tenant | None = None, partner: Partner | None = None, on: date
) -> VatDecision:
    """VAT for the buyer (`tenant`, or `partner` on a consolidated invoice) buying from
    `seller`, decided on the invoice date (§3.5): the buyer's country and VAT number."""
    if partner is not None:
        country, vat_number = partner.country, partner_vat_number(partner=partner)
    else:
        country, vat_number = tenant.country, tenant.vat_number
    return buyer_vat_decision(
        seller_country=seller.country, buyer_country=country, buyer_vat_number=vat_number, on=on
    )


def partner_vat_number(*, partner: Partner) -> str:
    """The partner's VAT number from its billing details ("" when it has given none)."""

    details = BillingDetails.objects.with_scopes_disabled().filter(partner=partner).first()
    return details.vat_number if details is not None else ""


def vat_breakdown(*, lines: Iterable[InvoiceLine], currency: str) -> list[VatGroup]:
    """Totals per VAT category and rate; VAT computed once per group on its summed net
    (EN 16931 BR-CO-17), so lines never carry a rounded VAT of their own."""
    groups: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        groups[(line.vat_category, Decimal(line.vat_rate))] += Decimal(line.net)
    return [
        VatGroup(
            category,
            rate,
            quantize(taxable, currency),
            vat_amount(quantize(taxable, currency), rate, currency),
        )
        for (category, rate), taxable in sorted(groups.items())
    ]


def invoice_totals(
    *, lines: list[InvoiceLine], currency: str, cash_rounding: bool
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(net, VAT, rounding, payable total) of `lines`.

    net + VAT + rounding == total exactly; the rounding is only ever non-zero for SEK and NOK
    with the seller's cash rounding on (BR-CO-16: payable = total with VAT + rounding).
    """
    groups = vat_breakdown(lines=lines, currency=currency)
    net = sum((group.taxable for group in groups), Decimal(0))
    vat = sum((group.vat for group in groups), Decimal(0))
    gross = quantize(net + vat, currency)
    rounding = Decimal("0.00")
    if cash_rounding and currency in CASH_ROUNDED_CURRENCIES:
        gross, rounding = cash_round(gross, currency)
        rounding = quantize(rounding, currency)
    return quantize(net, currency), quantize(vat, currency), rounding, gross


def seller_snapshot(*, seller: SellerEntity, currency: str) -> dict[str, Any]:
    account = seller.bank_accounts.filter(currency=currency).first()
    if account is None:
        raise InvoicingError("no_bank_account", seller=seller.name, currency=currency)
    # The account is frozen whole (IBAN, BIC, bank name, domestic numbers): an issued
    # document keeps the payment details it was issued with.
    return seller.party() | account.snapshot() | {"payment_terms_days": seller.payment_terms_days}


def invoice_buyer_snapshot(*, tenant: Tenant) -> dict[str, Any]:
    """The tenant as its invoices name the buyer, frozen at issue."""
    return party_snapshot(
        name=tenant.name,
        country=tenant.country,
        business_id=tenant.business_id,
        vat_number=tenant.vat_number,
        details=getattr(tenant, "billing_details", None),
        einvoice=True,
    )


def partner_buyer_snapshot(*, partner: Partner) -> dict[str, Any]:
    """The partner as its consolidated invoices name the buyer, frozen at issue."""

    details = BillingDetails.objects.with_scopes_disabled().filter(partner=partner).first()
    return party_snapshot(
        name=partner.name,
        country=partner.country,
        business_id=partner.business_id,
        vat_number=details.vat_number if details is not None else "",
        details=details,
        einvoice=True,
    )


def recipient_buyer_snapshot(
    *, tenant: Tenant | None = None, partner: Partner | None = None
) -> dict[str, Any]:
    if partner is not None:
        return partner_buyer_snapshot(partner=partner)
    return invoice_buyer_snapshot(tenant=tenant)


# Issuing (numbering, writing, credit notes) is `billing.issuing`; payments follow.


def payment_register(
    *, invoice: Invoice, amount: Decimal, paid_on: date, reference: str, actor: ActorLike
) -> Payment:
    """Record a payment; the invoice is paid once payments cover what is left after credits."""
    amount = quantize(Decimal(amount), invoice.currency)
    if amount <= 0:
        raise InvoicingError("payment_not_positive")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE:
            raise InvoicingError("payment_on_credit_note")
        paid = sum((p.amount for p in invoice.payments.all()), Decimal(0))
        outstanding = invoice.total - invoice.credited_amount - paid
        if amount > outstanding:
            raise InvoicingError(
                "payment_exceeds_outstanding",
                amount=amount,
                currency=invoice.currency,
                outstanding=outstanding,
                invoice=invoice,
            )
        payment = Payment.objects.create(
            tenant=invoice.tenant,
            partner=invoice.partner,
            invoice=invoice,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            registered_at=clock.now(),
            registered_by=actor if isinstance(actor, User) else None,
        )
        audit_record(
            actor=actor,
            action=AuditAction.PAYMENT_REGISTERED,
            tenant=invoice.tenant_id,
            partner=invoice.partner_id,
            subject=invoice,
            details={
                "invoice": invoice.display_number,
                "amount": str(amount),
                "currency": invoice.currency,
                "paid_on": paid_on.isoformat(),
                "reference": reference,
            },
        )
        if amount == outstanding:
            invoice_status_move(invoice=invoice, to=InvoiceState.PAID, actor=actor)
    return payment
