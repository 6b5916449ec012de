"""The weekly invoicing run's invoices, issued in batches (DESIGN §3.4, §3.5).

The same invoices as `billing.invoicing.invoice_orders` issues one at a time (same lines,
totals, VAT, snapshots, numbering and constraints; `tests/billing/test_runs.py` compares the
two), written a batch at a time: PERFORMANCE.md measured ~7 statements and a transaction per
invoice, ~100 invoices/s, where a billing run must reach thousands.

Per batch of up to `BATCH_SIZE` recipients (tenant or paying partner + seller; a partner's
invoice is consolidated: every customer's lines, grouped by customer):

1. load their uninvoiced orders with the order lines not invoiced yet (two queries);
2. build every invoice in memory: VAT decided on the invoice date, lines, totals, the
   buyer's and the seller's snapshots; a recipient that cannot be invoiced (orders in two
   currencies from one seller, no bank account in the currency) is recorded as an error;
3. per seller, in one short transaction: lock the seller's counter row
   (`SELECT … FOR UPDATE`), number the invoices consecutively from it, insert the invoices,
   insert their lines, move the counter on, commit. A rollback gives every number back, so
   the series stays gap-free; the counter's lock is held for the inserts only.

Two workers running the same run: the second one's batch collides with a unique key (one
invoice per run, recipient and seller; an order line invoiced once) and rolls back, numbers
included; the recipients invoiced meanwhile are dropped as "already done" and the rest is
issued again, one recipient per transaction if it collides a second time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from billing import invoicing
from billing.invoicing import (
    InvoicingError,
    RecipientKey,
    _order_lines_to_invoice,
    _reference,
    consolidated_order,
    invoice_totals,
    invoice_vat_decision,
    recipient_buyer_snapshot,
    seller_snapshot,
    uninvoiced_orders,
)
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    SellerEntity,
)
from billing.run_records import RunError, RunTally
from severa import clock
from severa.bulk import bulk_insert
from subscriptions.models import OrderConfirmation

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
INVOICING_COUNTS = ("orders", "invoices", "already_done")


@dataclass
class _Draft:
    """One invoice, complete but for its number, and the orders it bills."""

    invoice: Invoice
    lines: list[InvoiceLine]
    orders: list[OrderConfirmation]


def _draft(
    *,
    orders: list[OrderConfirmation],
    invoice_date: date,
    billing_run: BillingRun,
    seller_snapshots: dict[tuple[int, str], dict[str, Any]],
) -> _Draft | None:
    """The invoice of `orders` (one recipient, one seller), as `invoicing._issue` writes it:
    for a paying partner, consolidated over its customers' orders."""
    seller = orders[0].seller
    partner = orders[0].invoice_partner if orders[0].invoice_partner_id is not None else None
    tenant = None if partner is not None else orders[0].tenant
    currencies = {order.currency for order in orders}
    if len(currencies) != 1:
        buyer = partner if partner is not None else tenant
        raise InvoicingError(
            f"{buyer.name}: orders in several currencies {sorted(currencies)} from one seller"
        )
    currency = currencies.pop()
    if partner is not None:
        orders = consolidated_order(orders)
    vat = invoice_vat_decision(seller=seller, tenant=tenant, partner=partner, on=invoice_date)
    lines = _order_lines_to_invoice(orders, vat)
    if not lines:
        return None
    for position, line in enumerate(lines, start=1):
        line.partner = partner
        line.position = position
    net, vat_total, rounding, total = invoice_totals(
        lines, currency=currency, cash_rounding=seller.cash_rounding
    )
    key = (seller.pk, currency)
    if key not in seller_snapshots:
        seller_snapshots[key] = seller_snapshot(seller, currency)
    invoice = Invoice(
        tenant=tenant,
        partner=partner,
        seller=seller,
        kind=InvoiceKind.INVOICE,
        billing_run=billing_run,
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=seller.payment_terms_days),
        currency=currency,
        seller_snapshot=seller_snapshots[key],
        buyer_snapshot=recipient_buyer_snapshot(tenant=tenant, partner=partner),
        vat_note=vat.note,
        net=net,
        vat=vat_total,
        rounding=rounding,
        total=total,
    )
    return _Draft(invoice, lines, orders)


def _issue(seller: SellerEntity, drafts: list[_Draft], *, deliver: bool) -> None:
    """Number and write `drafts` (all from `seller`) in one transaction; the number is taken
    last, so the counter's row lock is held for the inserts only."""
    with transaction.atomic():
        InvoiceCounter.objects.get_or_create(seller=seller, series=seller.invoice_series)
        counter = InvoiceCounter.objects.select_for_update().get(
            seller=seller, series=seller.invoice_series
        )
        issued_at = clock.now()
        invoices = []
        for offset, draft in enumerate(drafts):
            invoice = draft.invoice
            invoice.pk = None
            invoice._state.adding = True
            invoice.series = counter.series
            invoice.number = counter.next_number + offset
            invoice.reference = _reference(seller, invoice.series, invoice.number)
            invoice.issued_at = issued_at
            invoices.append(invoice)
        bulk_insert(invoices)
        lines = []
        for draft in drafts:
            for line in draft.lines:
                line.pk = None
                line._state.adding = True
                line.invoice = draft.invoice
                lines.append(line)
        bulk_insert(lines)
        counter.next_number += len(drafts)
        counter.save(update_fields=["next_number"])
        if deliver:
            # Through the module attribute, as `invoicing._issue` does: the hook queues each
            # invoice's PDF and delivery after the commit.
            transaction.on_commit(lambda: [invoicing.invoice_issued(i) for i in invoices])


def _already_done(billing_run: BillingRun, drafts: list[_Draft]) -> set[int]:
    """Indexes of `drafts` that another worker issued meanwhile: this run has an invoice for
    the recipient and seller, or one of the order lines is invoiced."""
    tenants = {draft.invoice.tenant_id for draft in drafts} - {None}
    partners = {draft.invoice.partner_id for draft in drafts} - {None}
    invoiced = set(
        Invoice.objects.filter(billing_run=billing_run, tenant_id__in=tenants).values_list(
            "tenant_id", "seller_id"
        )
    ) | {
        ("partner", partner_id, seller_id)
        for partner_id, seller_id in Invoice.objects.filter(
            billing_run=billing_run, partner_id__in=partners
        ).values_list("partner_id", "seller_id")
    }
    order_lines = [line.order_line_id for draft in drafts for line in draft.lines]
    billed = set(
        InvoiceLine.objects.filter(order_line_id__in=order_lines).values_list(
            "order_line_id", flat=True
        )
    )
    return {
        index
        for index, draft in enumerate(drafts)
        if (draft.invoice.tenant_id, draft.invoice.seller_id) in invoiced
        or ("partner", draft.invoice.partner_id, draft.invoice.seller_id) in invoiced
        or any(line.order_line_id in billed for line in draft.lines)
    }


def _issue_for_seller(
    seller: SellerEntity, drafts: list[_Draft], tally: RunTally, *, deliver: bool, run: BillingRun
) -> None:
    try:
        _issue(seller, drafts, deliver=deliver)
        issued = drafts
    except IntegrityError:
        done = _already_done(run, drafts)
        tally.add("already_done", len(done))
        logger.info(
            "Invoicing run %s: %s recipients of %s were invoiced by another worker",
            run.run_date,
            len(done),
            seller,
        )
        issued = []
        for index, draft in enumerate(drafts):
            if index in done:
                continue
            try:
                _issue(seller, [draft], deliver=deliver)
            except IntegrityError:
                tally.add("already_done")
                continue
            issued.append(draft)
    tally.add("invoices", len(issued))
    tally.add("orders", sum(len(draft.orders) for draft in issued))


def invoices_issue_batched(
    *,
    billing_run: BillingRun,
    invoice_date: date,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
    tally: RunTally | None = None,
) -> RunTally:
    """Invoice every uninvoiced order made on or before `invoice_date`, one invoice per
    recipient (tenant, or paying partner) and seller, in batches; counts what it did in
    `tally` (see the module docstring), which holds what was done so far if it raises."""
    if tally is None:
        tally = RunTally.of(*INVOICING_COUNTS)
    recipients: dict[tuple[RecipientKey, int], list[int]] = defaultdict(list)
    for order_id, tenant_id, partner_id, seller_id in (
        uninvoiced_orders(invoice_date)
        .prefetch_related(None)
        .values_list("pk", "tenant_id", "invoice_partner_id", "seller_id")
    ):
        recipient = ("partner", partner_id) if partner_id is not None else ("tenant", tenant_id)
        recipients[(recipient, seller_id)].append(order_id)
    keys = list(recipients)
    seller_snapshots: dict[tuple[int, str], dict[str, Any]] = {}
    sellers: dict[int, SellerEntity] = {}
    for start in range(0, len(keys), batch_size):
        chunk = keys[start : start + batch_size]
        order_ids = [order_id for key in chunk for order_id in recipients[key]]
        groups: dict[tuple[RecipientKey, int], list[OrderConfirmation]] = defaultdict(list)
        loaded = list(
            uninvoiced_orders(invoice_date)
            .select_related(None)
            .select_related("tenant", "tenant__billing_details", "invoice_partner")
            .filter(pk__in=order_ids)
        )
        # A few sellers serve every tenant: one instance each, not one joined copy per order.
        missing = {order.seller_id for order in loaded} - set(sellers)
        if missing:
            sellers.update(SellerEntity.objects.in_bulk(missing))
        for order in loaded:
            order.seller = sellers[order.seller_id]
            groups[(invoicing.order_recipient(order), order.seller_id)].append(order)
        by_seller: dict[int, list[_Draft]] = defaultdict(list)
        for ((kind, recipient_id), seller_id), orders in groups.items():
            try:
                draft = _draft(
                    orders=orders,
                    invoice_date=invoice_date,
                    billing_run=billing_run,
                    seller_snapshots=seller_snapshots,
                )
            except InvoicingError as error:
                tenant_id = recipient_id if kind == "tenant" else None
                tally.errors.append(RunError(tenant_id, str(error)))
                continue
            if draft is not None:
                by_seller[seller_id].append(draft)
        for seller_id, drafts in by_seller.items():
            _issue_for_seller(sellers[seller_id], drafts, tally, deliver=deliver, run=billing_run)
    return tally
