"""Issuing invoices and credit notes (DESIGN §3.4, §3.5).

The weekly run invoices every confirmed order confirmation not invoiced yet: one invoice per
recipient (the tenant, or the partner organisation named by the order's `invoice_partner`)
per seller per run. A partner's invoice is consolidated: its lines are grouped by customer
(each line keeps the customer in `tenant`), and VAT is decided by the partner as the buyer.
Each invoice is issued in its own short transaction that

1. locks the seller's counter row (`SELECT … FOR UPDATE`),
2. writes the invoice and its lines (each order line points to the one invoice line that
   bills it: a OneToOne key, so an order line can never be invoiced twice),
3. takes the next number and moves the counter on, last, so the lock is held briefly.

A rolled-back issue returns its number with the counter, so numbers have no gaps. Two workers
running the same run collide on a unique key (the run + tenant + seller, or an order line);
the loser's transaction rolls back and the collision counts as "already done". PDFs and
e-mails are queued after the commit (rendering inside the lock would hold the counter for a
third of a second per page).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from accounts.models import Partner, Tenant, User
from billing.invoice_status import invoice_mark_credited, invoice_mark_paid
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    Payment,
    SellerEntity,
)
from billing.money import cash_round, quantize
from billing.references import reference_for
from billing.vat import VatDecision, vat_amount, vat_decide, vat_number_valid
from severa import clock
from subscriptions.models import OrderConfirmation, OrderLine

logger = logging.getLogger(__name__)

# Currencies whose invoices are rounded to whole units where the seller enables it.
CASH_ROUNDED_CURRENCIES = frozenset({"SEK", "NOK"})


class InvoicingError(Exception):
    """A refused invoicing action; the message is meant for an operator."""


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
        country, vat_number = partner.country, partner_vat_number(partner)
    else:
        country, vat_number = tenant.country, tenant.vat_number
    try:
        valid = bool(vat_number) and vat_number_valid(country, vat_number)
    except ValueError:
        valid = False
    return vat_decide(
        seller_country=seller.country,
        buyer_country=country,
        buyer_is_business=True,
        buyer_vat_number_valid=valid,
        on=on,
    )


def partner_vat_number(partner: Partner) -> str:
    """The partner's VAT number from its billing details ("" when it has given none)."""
    from billing.models import BillingDetails

    details = BillingDetails.objects.with_scopes_disabled().filter(partner=partner).first()
    return details.vat_number if details is not None else ""


def vat_breakdown(lines: Iterable[InvoiceLine], currency: str) -> list[VatGroup]:
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
    lines: list[InvoiceLine], *, currency: str, cash_rounding: bool
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(net, VAT, rounding, payable total) of `lines`.

    net + VAT + rounding == total exactly; the rounding is only ever non-zero for SEK and NOK
    with the seller's cash rounding on (BR-CO-16: payable = total with VAT + rounding).
    """
    groups = vat_breakdown(lines, currency)
    net = sum((group.taxable for group in groups), Decimal(0))
    vat = sum((group.vat for group in groups), Decimal(0))
    gross = quantize(net + vat, currency)
    rounding = Decimal("0.00")
    if cash_rounding and currency in CASH_ROUNDED_CURRENCIES:
        gross, rounding = cash_round(gross, currency)
        rounding = quantize(rounding, currency)
    return quantize(net, currency), quantize(vat, currency), rounding, gross


def seller_snapshot(seller: SellerEntity, currency: str) -> dict[str, Any]:
    account = seller.bank_accounts.filter(currency=currency).first()
    if account is None:
        raise InvoicingError(f"{seller.name} has no bank account in {currency}")
    return seller.party() | {
        "iban": account.iban,
        "bic": account.bic,
        "payment_terms_days": seller.payment_terms_days,
    }


def invoice_buyer_snapshot(tenant: Tenant) -> dict[str, Any]:
    from subscriptions.services import buyer_snapshot

    snapshot = buyer_snapshot(tenant)
    details = getattr(tenant, "billing_details", None)
    if details is not None:
        for field in ("einvoice_address", "einvoice_operator", "peppol_id"):
            value = getattr(details, field, "")
            if value:
                snapshot[field] = value
        if getattr(details, "country", ""):
            snapshot["address_country"] = details.country
    return snapshot


def partner_buyer_snapshot(partner: Partner) -> dict[str, Any]:
    """The partner as its consolidated invoices name the buyer, frozen at issue."""
    from billing.models import BillingDetails

    details = BillingDetails.objects.with_scopes_disabled().filter(partner=partner).first()
    snapshot: dict[str, Any] = {
        "name": partner.name,
        "country": partner.country,
        "business_id": partner.business_id,
        "vat_number": details.vat_number if details is not None else "",
    }
    if details is not None:
        for field in ("street_address", "postal_code", "city"):
            if getattr(details, field):
                snapshot[field] = getattr(details, field)
        if details.country:
            snapshot["address_country"] = details.country
        for field in ("einvoice_address", "einvoice_operator", "peppol_id"):
            if getattr(details, field):
                snapshot[field] = getattr(details, field)
    return snapshot


def recipient_buyer_snapshot(
    *, tenant: Tenant | None = None, partner: Partner | None = None
) -> dict[str, Any]:
    if partner is not None:
        return partner_buyer_snapshot(partner)
    return invoice_buyer_snapshot(tenant)


def _next_number(seller: SellerEntity) -> tuple[str, int]:
    """Take the next number of the seller's series; call inside the issuing transaction."""
    counter, _created = InvoiceCounter.objects.get_or_create(
        seller=seller, series=seller.invoice_series
    )
    counter = InvoiceCounter.objects.select_for_update().get(pk=counter.pk)
    number = counter.next_number
    counter.next_number = number + 1
    counter.save(update_fields=["next_number"])
    return counter.series, number


def _reference(seller: SellerEntity, series: str, number: int) -> str:
    # The number identifies an invoice within the seller's series (each seller has its own
    # bank accounts). A leading 1 keeps the base at 8+ digits without leading zeros; the
    # check digit (or the RF check pair) follows the seller's country.
    return reference_for(seller.country, f"1{number:07d}")


def _issue(
    *,
    tenant: Tenant | None,
    seller: SellerEntity,
    currency: str,
    invoice_date: date,
    lines: list[InvoiceLine],
    kind: str,
    billing_run: BillingRun | None = None,
    credited_invoice: Invoice | None = None,
    vat_note: str,
    partner: Partner | None = None,
) -> Invoice:
    """Write one invoice with its lines and number it. The caller opens the transaction.

    A partner's invoice (`partner`, no `tenant`) keeps each line's customer in its `tenant`,
    which the caller sets."""
    net, vat, rounding, total = invoice_totals(
        lines, currency=currency, cash_rounding=seller.cash_rounding
    )
    snapshot = seller_snapshot(seller, currency)
    # The number is taken last: the counter's row lock is held from here to the commit only.
    series, number = _next_number(seller)
    invoice = Invoice.objects.create(
        tenant=tenant,
        partner=partner,
        seller=seller,
        kind=kind,
        series=series,
        number=number,
        billing_run=billing_run,
        credited_invoice=credited_invoice,
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=seller.payment_terms_days),
        currency=currency,
        reference=_reference(seller, series, number),
        seller_snapshot=snapshot,
        buyer_snapshot=recipient_buyer_snapshot(tenant=tenant, partner=partner),
        vat_note=vat_note,
        net=net,
        vat=vat,
        rounding=rounding,
        total=total,
        issued_at=clock.now(),
    )
    for position, line in enumerate(lines, start=1):
        if partner is None:
            line.tenant = tenant
        line.partner = partner
        line.invoice = invoice
        line.position = position
    InvoiceLine.objects.bulk_create(lines)
    transaction.on_commit(lambda: invoice_issued(invoice))
    return invoice


def invoice_issued(invoice: Invoice) -> None:
    """After the commit: render the PDF and deliver (queued to the workers)."""
    from billing.delivery import invoice_delivery_queue  # delivery imports this module

    invoice_delivery_queue(invoice)


def _order_lines_to_invoice(orders: list[OrderConfirmation], vat: VatDecision) -> list:
    """The invoice lines of `orders`, each naming the order's tenant (the customer)."""
    lines = []
    for order in orders:
        for order_line in order.lines.all():
            lines.append(
                InvoiceLine(
                    tenant_id=order.tenant_id,
                    order_line=order_line,
                    order_number=order.number,
                    description=order_line.description,
                    period_start=order_line.period_start,
                    period_end=order_line.period_end,
                    quantity=Decimal(order_line.quantity),
                    unit_price=order_line.unit_price,
                    vat_category=vat.category,
                    vat_rate=vat.rate,
                    net=order_line.net,
                )
            )
    return lines


def uninvoiced_orders(up_to: date):
    """Confirmed orders with a charge, made on or before `up_to`, with the lines not invoiced
    yet whose period has started by `up_to`: an order made before its period starts (a first
    period in the future) is confirmed at once and invoiced by the first run on or after the
    period's start, never before."""
    return (
        OrderConfirmation.objects.filter(
            made_on__lte=up_to,
            net__gt=0,
            lines__invoice_line__isnull=True,
            lines__period_start__lte=up_to,
        )
        .distinct()
        .select_related("tenant", "seller", "invoice_partner")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(
                    invoice_line__isnull=True, period_start__lte=up_to
                ),
            )
        )
        .order_by("tenant_id", "seller_id", "made_on", "sequence")
    )


# Who an order is invoiced to: ("tenant", tenant id) or ("partner", partner id).
RecipientKey = tuple[str, int]


def order_recipient(order: OrderConfirmation) -> RecipientKey:
    """The customer pays its orders unless the order names a partner that pays."""
    if order.invoice_partner_id is not None:
        return ("partner", order.invoice_partner_id)
    return ("tenant", order.tenant_id)


def consolidated_order(orders: list[OrderConfirmation]) -> list[OrderConfirmation]:
    """A partner's orders in invoice order: customer by customer (by name), each customer's
    orders by date, so each customer's lines sit together under its heading."""
    return sorted(orders, key=lambda o: (o.tenant.name.lower(), o.tenant_id, o.made_on, o.sequence))


def invoice_orders(
    *,
    billing_run: BillingRun,
    tenant: Tenant | None,
    seller: SellerEntity,
    orders: list[OrderConfirmation],
    invoice_date: date,
    partner: Partner | None = None,
) -> Invoice | None:
    """Issue the run's one invoice for `tenant` (or, consolidated, for `partner`) from
    `seller` covering `orders`.

    Returns None when another worker issued it (or invoiced these lines) first.
    """
    currencies = {order.currency for order in orders}
    if len(currencies) != 1:
        buyer = partner if partner is not None else tenant
        raise InvoicingError(
            f"{buyer.name}: orders in several currencies {sorted(currencies)} from one seller"
        )
    if partner is not None:
        orders = consolidated_order(orders)
    vat = invoice_vat_decision(seller=seller, tenant=tenant, partner=partner, on=invoice_date)
    lines = _order_lines_to_invoice(orders, vat)
    if not lines:
        return None
    try:
        with transaction.atomic():
            return _issue(
                tenant=tenant,
                seller=seller,
                currency=currencies.pop(),
                invoice_date=invoice_date,
                lines=lines,
                kind=InvoiceKind.INVOICE,
                billing_run=billing_run,
                vat_note=vat.note,
                partner=partner,
            )
    except IntegrityError:
        # The run's invoice for this recipient and seller exists, or one of the order lines
        # was invoiced meanwhile: done by somebody else, and nothing of ours was written.
        return None


def invoices_issue(*, billing_run: BillingRun, invoice_date: date) -> dict[str, int]:
    """Invoice every uninvoiced order up to the run's date; returns counts for the run."""
    groups: dict[tuple[RecipientKey, int], list[OrderConfirmation]] = defaultdict(list)
    for order in uninvoiced_orders(invoice_date):
        groups[(order_recipient(order), order.seller_id)].append(order)
    issued = skipped = 0
    for (recipient, _seller_id), orders in groups.items():
        partner = orders[0].invoice_partner if recipient[0] == "partner" else None
        invoice = invoice_orders(
            billing_run=billing_run,
            tenant=None if partner is not None else orders[0].tenant,
            partner=partner,
            seller=orders[0].seller,
            orders=orders,
            invoice_date=invoice_date,
        )
        if invoice is None:
            skipped += 1
        else:
            issued += 1
    return {"invoices": issued, "already_done": skipped}


# Credit notes and payments.


def credit_note_issue(
    *,
    invoice: Invoice,
    lines: dict[int, Decimal] | None,
    by: User | None,
    reason: str = "",
) -> Invoice:
    """Credit `invoice` in whole (`lines` None) or in part ({invoice line id: net to credit}).

    A line cannot be credited beyond what is left of it; the credit note copies each credited
    line's period and VAT, with negative amounts, and references the invoice.
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE:
            raise InvoicingError("Only an invoice can be credited")
        original = list(invoice.lines.all())
        credited: dict[int, Decimal] = defaultdict(Decimal)
        for line in InvoiceLine.objects.filter(credited_line__invoice=invoice):
            credited[line.credited_line_id] += -line.net
        wanted = (
            {line.pk: line.net - credited[line.pk] for line in original}
            if lines is None
            else {int(k): quantize(Decimal(v), invoice.currency) for k, v in lines.items()}
        )
        by_id = {line.pk: line for line in original}
        new_lines = []
        for line_id, amount in wanted.items():
            line = by_id.get(line_id)
            if line is None:
                raise InvoicingError(f"Line {line_id} is not on invoice {invoice}")
            if amount <= 0 and lines is not None:
                raise InvoicingError("An amount to credit must be positive")
            left = line.net - credited[line.pk]
            if amount > left:
                raise InvoicingError(
                    f"Line {line.position} has {left} {invoice.currency} left to credit, "
                    f"not {amount}"
                )
            if amount == 0:
                continue
            new_lines.append(
                InvoiceLine(
                    tenant_id=line.tenant_id,
                    credited_line=line,
                    order_number=line.order_number,
                    description=line.description,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    quantity=-(line.quantity * amount / line.net).quantize(Decimal("0.01"))
                    if line.net
                    else Decimal(0),
                    unit_price=line.unit_price,
                    vat_category=line.vat_category,
                    vat_rate=line.vat_rate,
                    net=-amount,
                )
            )
        if not new_lines:
            raise InvoicingError(f"Invoice {invoice} has nothing left to credit")
        note = _issue(
            tenant=invoice.tenant,
            partner=invoice.partner,
            seller=invoice.seller,
            currency=invoice.currency,
            invoice_date=clock.today(),
            lines=new_lines,
            kind=InvoiceKind.CREDIT_NOTE,
            credited_invoice=invoice,
            vat_note=invoice.vat_note,
        )
        invoice.credited_amount = invoice.credited_amount - note.total
        invoice.save(update_fields=["credited_amount"])
        if invoice.credited_amount >= invoice.total:
            invoice_mark_credited(invoice)
        from accounts.services import audit_record

        if invoice.tenant_id is not None:
            audit_record(
                tenant=invoice.tenant,
                actor=by,
                action="credit_note.issued",
                invoice=invoice.display_number,
                credit_note=note.display_number,
                reason=reason,
            )
        else:
            # The audit trail is per tenant; a partner's invoice has none.
            logger.info(
                "Credit note %s of partner %s invoice %s issued by %s: %s",
                note.display_number,
                invoice.partner_id,
                invoice.display_number,
                by,
                reason,
            )
    return note


def payment_register(
    *, invoice: Invoice, amount: Decimal, paid_on: date, reference: str, by: User | None
) -> Payment:
    """Record a payment; the invoice is paid once payments cover what is left after credits."""
    amount = quantize(Decimal(amount), invoice.currency)
    if amount <= 0:
        raise InvoicingError("A payment must be positive")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE:
            raise InvoicingError("Payments are registered on invoices, not credit notes")
        paid = sum((p.amount for p in invoice.payments.all()), Decimal(0))
        outstanding = invoice.total - invoice.credited_amount - paid
        if amount > outstanding:
            raise InvoicingError(
                f"{amount} {invoice.currency} exceeds the {outstanding} {invoice.currency} "
                f"outstanding on invoice {invoice}"
            )
        payment = Payment.objects.create(
            tenant=invoice.tenant,
            partner=invoice.partner,
            invoice=invoice,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            registered_at=clock.now(),
            registered_by=by,
        )
        if amount == outstanding:
            invoice_mark_paid(invoice, at=clock.now())
    return payment
