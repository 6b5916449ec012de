"""Issuing invoices and credit notes: the one path (DESIGN §3.4, §3.5).

Every invoice and every credit note is a `Draft` (the document complete but for its number,
and its lines) written by `drafts_issue`, a batch of drafts of one seller; a single invoice
or credit note is a batch of one. So numbering, snapshots, VAT, totals and the constraints
are the same for all of them:

- an invoice drafts the orders of one recipient (the tenant, or the partner organisation
  named by the orders' `invoice_partner`) from one seller: `invoice_draft`. A partner's
  invoice is consolidated: its lines are grouped by customer (each line keeps the customer
  in `tenant`), and VAT is decided by the partner as the buyer;
- a credit note drafts negative copies of an invoice's lines, with the invoice's VAT note
  and a reference to it: `credit_note_issue`.

`drafts_issue` writes its batch in one short transaction: it locks the seller's counter row
(`SELECT … FOR UPDATE`), numbers the drafts consecutively from it, inserts the documents,
inserts their lines (an order line points to the one invoice line that bills it: a
OneToOne key, so it can never be invoiced twice), marks the orders invoiced, moves the
counter on and commits. The number is taken last, so the counter's lock is held for the
inserts only; a rollback gives every number back, so the series stays gap-free. PDFs and
e-mails are queued after the commit (rendering inside the lock would hold the counter for a
third of a second per page).

The weekly invoicing run (`invoices_issue`, driven by `billing.runs`) drafts up to
`BATCH_SIZE` recipients at a time from the orders due: made on or before the run's date and
not invoiced yet, an indexed flag on the order, so a run reads the week's work and never
the history. Two workers issuing the same recipients collide on a unique key (one invoice
per run, recipient and seller; an order line invoiced once): the loser's batch rolls back,
numbers included, the recipients invoiced meanwhile are counted as "already done" and the
rest is issued again, one recipient per transaction if it collides a second time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from accounts.audit import (
    ActorLike,
    AuditAction,
    audit_event_build,
    audit_events_insert,
    audit_record,
)
from accounts.models import Partner, Tenant, User
from billing.invoice_status import invoice_status_move
from billing.invoicing import (
    InvoicingError,
    invoice_totals,
    invoice_vat_decision,
    recipient_buyer_snapshot,
    seller_snapshot,
)
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    SellerEntity,
)
from billing.references import reference_for
from billing.run_records import RunError, RunTally
from severa import clock, line_texts
from severa.bulk import bulk_insert, new_instance
from severa.money import quantize
from severa.vat import VatDecision
from subscriptions.models import OrderConfirmation, OrderLine
from subscriptions.order_status import orders_mark_invoiced

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
INVOICING_COUNTS = ("orders", "invoices", "already_done")

# Who an order is invoiced to: ("tenant", tenant id) or ("partner", partner id).
RecipientKey = tuple[str, int]


@dataclass
class Draft:
    """One invoice or credit note, complete but for its number; for an invoice, the orders
    it bills."""

    invoice: Invoice
    lines: list[InvoiceLine]
    orders: list[OrderConfirmation] = field(default_factory=list)


def invoice_reference(*, seller: SellerEntity, series: str, number: int) -> str:
    """The payment reference of invoice `number` of the seller's `series`.

    The number identifies an invoice within the seller's series (each seller has its own
    bank accounts). A leading 1 keeps the base at 8+ digits without leading zeros; the check
    digit (or the RF check pair) follows the seller's country."""
    return reference_for(seller.country, f"1{number:07d}")


def invoice_issued(*, invoice: Invoice) -> None:
    """After the commit: render the PDF and deliver (queued to the workers)."""
    from billing.delivery import invoice_delivery_queue  # delivery imports this module

    invoice_delivery_queue(invoice=invoice)


def _draft(
    *,
    tenant: Tenant | None,
    partner: Partner | None,
    seller: SellerEntity,
    currency: str,
    kind: str,
    invoice_date: date,
    lines: list[InvoiceLine],
    vat_note: str,
    vat_note_kind: str = "",
    billing_run: BillingRun | None = None,
    credited_invoice: Invoice | None = None,
    seller_snapshots: dict[tuple[int, str], dict[str, Any]] | None = None,
    orders: list[OrderConfirmation] | None = None,
) -> Draft:
    """The document of `lines`: totals, the seller's and the buyer's snapshots, the due date.

    A partner's document (`partner`, no `tenant`) keeps each line's customer in its
    `tenant`, which the caller sets.

    The document is written in its buyer's language now: each line's text is rendered from
    its kind and params, and the VAT note from `vat_note_kind` (`vat_note` is the text of a
    note without a kind, and of lines without one their own description)."""
    partner_id = partner.pk if partner is not None else None
    language = line_texts.document_language(partner if partner is not None else tenant)
    with line_texts.in_language(language):
        for position, line in enumerate(lines, start=1):
            if partner is None:
                line.tenant_id = tenant.pk
            line.partner_id = partner_id
            line.position = position
            if line.text_kind:
                line.description = line_texts.line_text_of(line)
        vat_note = line_texts.vat_note_text(vat_note_kind, default=vat_note)
    net, vat_total, rounding, total = invoice_totals(
        lines=lines, currency=currency, cash_rounding=seller.cash_rounding
    )
    if seller_snapshots is None:
        seller_snapshots = {}
    key = (seller.pk, currency)
    if key not in seller_snapshots:
        seller_snapshots[key] = seller_snapshot(seller=seller, currency=currency)
    related = {
        "tenant": tenant,
        "partner": partner,
        "seller": seller,
        "billing_run": billing_run,
        "credited_invoice": credited_invoice,
    }
    invoice = new_instance(
        Invoice,
        {
            **{f"{name}_id": obj.pk if obj is not None else None for name, obj in related.items()},
            "kind": kind,
            "invoice_date": invoice_date,
            "due_date": invoice_date + timedelta(days=seller.payment_terms_days),
            "currency": currency,
            "seller_snapshot": seller_snapshots[key],
            "buyer_snapshot": recipient_buyer_snapshot(tenant=tenant, partner=partner),
            "vat_note": vat_note,
            "vat_note_kind": vat_note_kind,
            "net": net,
            "vat": vat_total,
            "rounding": rounding,
            "total": total,
        },
    )
    # The related objects the caller has, as the keyword constructor would keep them.
    for name, obj in related.items():
        Invoice._meta.get_field(name).set_cached_value(invoice, obj)
    return Draft(invoice, lines, orders or [])


def drafts_issue(
    *,
    seller: SellerEntity,
    drafts: list[Draft],
    deliver: bool = True,
    actor: ActorLike = None,
    details: dict | None = None,
) -> None:
    """Number and write `drafts` (all from `seller`) in one transaction (a savepoint inside
    the caller's), each audited as issued by `actor` (the run, when None); the number is
    taken last, so the counter's row lock is held for the inserts only. Raises
    IntegrityError, with nothing written, when one of them exists already (see the module
    docstring)."""
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
            invoice.reference = invoice_reference(
                seller=seller, series=invoice.series, number=invoice.number
            )
            invoice.issued_at = issued_at
            invoices.append(invoice)
        bulk_insert(invoices)
        lines = []
        for draft in drafts:
            for line in draft.lines:
                line.pk = None
                line._state.adding = True
                line.invoice_id = draft.invoice.pk
                lines.append(line)
        bulk_insert(lines)
        audit_events_insert(
            events=[
                audit_event_build(
                    actor=actor,
                    action=(
                        AuditAction.CREDIT_NOTE_ISSUED
                        if invoice.kind == InvoiceKind.CREDIT_NOTE
                        else AuditAction.INVOICE_ISSUED
                    ),
                    tenant=invoice.tenant_id,
                    partner=invoice.partner_id,
                    subject_ref=(invoice._meta.label_lower, invoice.pk, invoice.display_number),
                    details={
                        "invoice": invoice.display_number,
                        "total": str(invoice.total),
                        "currency": invoice.currency,
                        **(details or {}),
                    },
                    at=issued_at,
                )
                for invoice in invoices
            ]
        )
        orders_mark_invoiced(order_ids=[order.pk for draft in drafts for order in draft.orders])
        counter.next_number += len(drafts)
        counter.save(update_fields=["next_number"])
        if deliver:
            transaction.on_commit(lambda: [invoice_issued(invoice=i) for i in invoices])


# Invoices of orders.


def uninvoiced_orders(*, up_to: date):
    """Confirmed orders with a charge, made on or before `up_to`, not invoiced yet (the
    partial index `order_to_invoice`: the run reads its due work, never the history), whose
    period has started by `up_to`: an order made before its period starts (a first period in
    the future) is confirmed at once and invoiced by the first run on or after the period's
    start, never before. Their snapshots and PDF are not loaded: an invoice takes none of
    them."""
    return (
        OrderConfirmation.objects.filter(made_on__lte=up_to, net__gt=0, invoiced=False)
        .exclude(lines__period_start__gt=up_to)
        .defer("seller_snapshot", "buyer_snapshot", "summary", "pdf")
        .select_related("tenant", "seller", "invoice_partner")
        .order_by("tenant_id", "seller_id", "made_on", "sequence")
    )


def order_recipient(*, order: OrderConfirmation) -> RecipientKey:
    """The customer pays its orders unless the order names a partner that pays."""
    if order.invoice_partner_id is not None:
        return ("partner", order.invoice_partner_id)
    return ("tenant", order.tenant_id)


def consolidated_order(*, orders: list[OrderConfirmation]) -> list[OrderConfirmation]:
    """A partner's orders in invoice order: customer by customer (by name), each customer's
    orders by date, so each customer's lines sit together under its heading."""
    return sorted(orders, key=lambda o: (o.tenant.name.lower(), o.tenant_id, o.made_on, o.sequence))


# What an invoice line copies from the order line it bills.
ORDER_LINE_FIELDS = (
    "order_id",
    "pk",
    "description",
    "text_kind",
    "params",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "net",
)


def order_lines_to_invoice(*, order_ids: list[int]) -> dict[int, list[tuple]]:
    """The lines not invoiced yet of the orders `order_ids`, as tuples of
    `ORDER_LINE_FIELDS` by order id (a batch reads thousands: no model instances)."""
    lines: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(order_id__in=order_ids, invoice_line__isnull=True)
        .order_by("order_id", "position")
        .values_list(*ORDER_LINE_FIELDS)
    ):
        lines[row[0]].append(row)
    return lines


def _order_lines_to_invoice(
    orders: list[OrderConfirmation], vat: VatDecision, order_lines: dict[int, list[tuple]]
) -> list[InvoiceLine]:
    """The invoice lines of `orders`, each naming the order's tenant (the customer)."""
    lines = []
    category, rate = vat.category, vat.rate
    for order in orders:
        number = order.number
        for (
            _order_id,
            pk,
            description,
            text_kind,
            params,
            start,
            end,
            quantity,
            unit_price,
            net,
        ) in order_lines.get(order.pk, ()):
            lines.append(
                new_instance(
                    InvoiceLine,
                    {
                        "tenant_id": order.tenant_id,
                        "order_line_id": pk,
                        "order_number": number,
                        "description": description,
                        "text_kind": text_kind,
                        "params": params,
                        "period_start": start,
                        "period_end": end,
                        "quantity": Decimal(quantity),
                        "unit_price": unit_price,
                        "vat_category": category,
                        "vat_rate": rate,
                        "net": net,
                    },
                )
            )
    return lines


def invoice_draft(
    *,
    orders: list[OrderConfirmation],
    invoice_date: date,
    billing_run: BillingRun,
    seller_snapshots: dict[tuple[int, str], dict[str, Any]] | None = None,
    order_lines: dict[int, list[tuple]] | None = None,
) -> Draft | None:
    """The run's invoice of `orders` (one recipient, one seller; for a paying partner,
    consolidated over its customers' orders), or None when none of their lines is left to
    invoice. Raises InvoicingError when they cannot be invoiced together. `order_lines` are
    the lines to invoice (`order_lines_to_invoice`), read here when not given."""
    seller = orders[0].seller
    partner = orders[0].invoice_partner if orders[0].invoice_partner_id is not None else None
    tenant = None if partner is not None else orders[0].tenant
    currencies = {order.currency for order in orders}
    if len(currencies) != 1:
        buyer = partner if partner is not None else tenant
        raise InvoicingError(
            "several_currencies", buyer=buyer.name, currencies=", ".join(sorted(currencies))
        )
    currency = currencies.pop()
    if partner is not None:
        orders = consolidated_order(orders=orders)
    vat = invoice_vat_decision(seller=seller, tenant=tenant, partner=partner, on=invoice_date)
    if order_lines is None:
        order_lines = order_lines_to_invoice(order_ids=[order.pk for order in orders])
    lines = _order_lines_to_invoice(orders, vat, order_lines)
    if not lines:
        return None
    return _draft(
        tenant=tenant,
        partner=partner,
        seller=seller,
        currency=currency,
        kind=InvoiceKind.INVOICE,
        invoice_date=invoice_date,
        lines=lines,
        vat_note=vat.note,
        vat_note_kind=vat.note_kind,
        billing_run=billing_run,
        seller_snapshots=seller_snapshots,
        orders=orders,
    )


def _already_done(billing_run: BillingRun, drafts: list[Draft]) -> set[int]:
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


def invoice_drafts_issue(
    *,
    seller: SellerEntity,
    drafts: list[Draft],
    tally: RunTally,
    billing_run: BillingRun,
    deliver: bool = True,
) -> list[Draft]:
    """Issue the run's invoice `drafts` (all from `seller`) once: those another worker
    issued meanwhile are counted as already done. Returns the drafts issued."""
    try:
        drafts_issue(seller=seller, drafts=drafts, deliver=deliver)
        issued = drafts
    except IntegrityError:
        done = _already_done(billing_run, drafts)
        tally.add("already_done", len(done))
        logger.info(
            "Invoicing run %s: %s recipients of %s were invoiced by another worker",
            billing_run.run_date,
            len(done),
            seller,
        )
        issued = []
        for index, draft in enumerate(drafts):
            if index in done:
                continue
            try:
                drafts_issue(seller=seller, drafts=[draft], deliver=deliver)
            except IntegrityError:
                tally.add("already_done")
                continue
            issued.append(draft)
    tally.add("invoices", len(issued))
    tally.add("orders", sum(len(draft.orders) for draft in issued))
    return issued


def _recipients_issue(
    orders: Iterable[OrderConfirmation],
    *,
    billing_run: BillingRun,
    invoice_date: date,
    deliver: bool,
    tally: RunTally,
    sellers: dict[int, SellerEntity],
    seller_snapshots: dict[tuple[int, str], dict[str, Any]],
) -> None:
    """Draft and issue the invoices of `orders`, one per recipient and seller."""
    orders = list(orders)
    order_lines = order_lines_to_invoice(order_ids=[order.pk for order in orders])
    # A few sellers serve every tenant: one instance each, not one joined copy per order.
    missing = {order.seller_id for order in orders} - set(sellers)
    if missing:
        sellers.update(SellerEntity.objects.in_bulk(missing))
    groups: dict[tuple[RecipientKey, int], list[OrderConfirmation]] = defaultdict(list)
    for order in orders:
        order.seller = sellers[order.seller_id]
        groups[(order_recipient(order=order), order.seller_id)].append(order)
    by_seller: dict[int, list[Draft]] = defaultdict(list)
    nothing_left: list[int] = []
    for ((kind, recipient_id), seller_id), recipient_orders in groups.items():
        try:
            draft = invoice_draft(
                orders=recipient_orders,
                invoice_date=invoice_date,
                billing_run=billing_run,
                seller_snapshots=seller_snapshots,
                order_lines=order_lines,
            )
        except InvoicingError as error:
            tenant_id = recipient_id if kind == "tenant" else None
            tally.errors.append(RunError(tenant_id, str(error)))
            continue
        if draft is None:
            nothing_left.extend(order.pk for order in recipient_orders)
        else:
            by_seller[seller_id].append(draft)
    if nothing_left:
        # Every line of these orders is on an invoice already: they leave the queue.
        orders_mark_invoiced(order_ids=nothing_left)
    for seller_id in sorted(by_seller):
        invoice_drafts_issue(
            seller=sellers[seller_id],
            drafts=by_seller[seller_id],
            tally=tally,
            billing_run=billing_run,
            deliver=deliver,
        )


def invoicing_plan(*, invoice_date: date, batch_size: int = BATCH_SIZE) -> list[list[int]]:
    """The orders due on `invoice_date` (see `uninvoiced_orders`), in chunks of the orders of
    up to `batch_size` recipients: a recipient's orders are never split between chunks."""
    recipients: dict[tuple[RecipientKey, int], list[int]] = defaultdict(list)
    for order_id, tenant_id, partner_id, seller_id in (
        uninvoiced_orders(up_to=invoice_date)
        .select_related(None)
        .values_list("pk", "tenant_id", "invoice_partner_id", "seller_id")
    ):
        recipient = ("partner", partner_id) if partner_id is not None else ("tenant", tenant_id)
        recipients[(recipient, seller_id)].append(order_id)
    keys = list(recipients)
    return [
        [order_id for key in keys[start : start + batch_size] for order_id in recipients[key]]
        for start in range(0, len(keys), batch_size)
    ]


@dataclass
class IssuingCache:
    """What every batch of one worker's run shares: the few sellers, their snapshots."""

    sellers: dict[int, SellerEntity] = field(default_factory=dict)
    seller_snapshots: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)


def invoices_issue_orders(
    *,
    order_ids: list[int],
    billing_run: BillingRun,
    invoice_date: date,
    deliver: bool = True,
    tally: RunTally,
    cache: IssuingCache | None = None,
) -> None:
    """Invoice the orders `order_ids` that are still due (a chunk of `invoicing_plan`), one
    invoice per recipient and seller; counts what it did in `tally`."""
    cache = cache or IssuingCache()
    loaded = (
        uninvoiced_orders(up_to=invoice_date)
        .select_related(None)
        .select_related("tenant", "tenant__billing_details", "invoice_partner")
        .filter(pk__in=order_ids)
    )
    _recipients_issue(
        loaded,
        billing_run=billing_run,
        invoice_date=invoice_date,
        deliver=deliver,
        tally=tally,
        sellers=cache.sellers,
        seller_snapshots=cache.seller_snapshots,
    )


def invoices_issue(
    *,
    billing_run: BillingRun,
    invoice_date: date,
    deliver: bool = True,
    batch_size: int = BATCH_SIZE,
    tally: RunTally | None = None,
) -> RunTally:
    """Invoice every uninvoiced order made on or before `invoice_date`, one invoice per
    recipient (tenant, or paying partner) and seller, in batches, in this process (the
    invoicing run shares the same batches among workers: `billing.runs`); counts what it
    did in `tally`, which holds what was done so far if it raises."""
    if tally is None:
        tally = RunTally.of(*INVOICING_COUNTS)
    cache = IssuingCache()
    for order_ids in invoicing_plan(invoice_date=invoice_date, batch_size=batch_size):
        invoices_issue_orders(
            order_ids=order_ids,
            billing_run=billing_run,
            invoice_date=invoice_date,
            deliver=deliver,
            tally=tally,
            cache=cache,
        )
    return tally


# Credit notes.


def credit_note_issue(
    *,
    invoice: Invoice,
    lines: dict[int, Decimal] | None,
    actor: User | None,
    reason: str = "",
) -> Invoice:
    """Credit `invoice` in whole (`lines` None) or in part ({invoice line id: net to credit}).

    A line cannot be credited beyond what is left of it; the credit note copies each credited
    line's period and VAT, with negative amounts, references the invoice, and is numbered in
    the seller's series like every invoice (a batch of one of `drafts_issue`).
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE:
            raise InvoicingError("credit_of_credit_note")
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
                raise InvoicingError("line_not_on_invoice", line=line_id, invoice=invoice)
            if amount <= 0 and lines is not None:
                raise InvoicingError("credit_not_positive")
            left = line.net - credited[line.pk]
            if amount > left:
                raise InvoicingError(
                    "credit_exceeds_line",
                    line=line.position,
                    left=left,
                    currency=invoice.currency,
                    amount=amount,
                )
            if amount == 0:
                continue
            new_lines.append(
                InvoiceLine(
                    tenant_id=line.tenant_id,
                    credited_line=line,
                    order_number=line.order_number,
                    description=line.description,
                    text_kind=line.text_kind,
                    params=line.params,
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
            raise InvoicingError("nothing_left_to_credit", invoice=invoice)
        seller = invoice.seller
        draft = _draft(
            tenant=invoice.tenant,
            partner=invoice.partner,
            seller=seller,
            currency=invoice.currency,
            kind=InvoiceKind.CREDIT_NOTE,
            invoice_date=clock.today(),
            lines=new_lines,
            vat_note=invoice.vat_note,
            vat_note_kind=invoice.vat_note_kind,
            credited_invoice=invoice,
        )
        drafts_issue(
            seller=seller,
            drafts=[draft],
            actor=actor,
            details={"credited_invoice": invoice.display_number, "reason": reason},
        )
        note = draft.invoice
        invoice.credited_amount = invoice.credited_amount - note.total
        invoice.save(update_fields=["credited_amount"])
        if invoice.credited_amount >= invoice.total:
            invoice_status_move(invoice=invoice, to=InvoiceState.CREDITED, actor=actor)
    return note


# Credit and reissue.


def invoice_reissue(
    *, invoice: Invoice, actor: User | None, reason: str = ""
) -> tuple[Invoice, Invoice]:
    """Credit `invoice` in full and issue a new invoice of the same lines on today's date,
    with the VAT decided today, in one transaction: the credit note and the new invoice
    take consecutive numbers of the seller's series and link each other (the new invoice's
    `reissue_credit_note`, the credit note's `reissue`). Both are delivered like any issued
    document. Answers (credit note, new invoice).

    Only an invoice that is neither credited (in part or whole) nor reissued can be
    reissued. The new lines name the order lines in `reissued_order_line`: the first
    invoice's lines keep `order_line`, so an order line stays invoiced once for the run."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE:
            raise InvoicingError("reissue_of_credit_note")
        reissued = (
            Invoice.objects.filter(reissue_credit_note__credited_invoice=invoice)
            .only("series", "number")
            .first()
        )
        if reissued is not None:
            raise InvoicingError("already_reissued", invoice=invoice, reissued=reissued)
        if invoice.credit_notes.exists():
            raise InvoicingError("reissue_of_credited", invoice=invoice)
        original = list(invoice.lines.order_by("position"))
        note = credit_note_issue(invoice=invoice, lines=None, actor=actor, reason=reason)
        today = clock.today()
        seller, tenant, partner = invoice.seller, invoice.tenant, invoice.partner
        vat = invoice_vat_decision(seller=seller, tenant=tenant, partner=partner, on=today)
        lines = [
            new_instance(
                InvoiceLine,
                {
                    "tenant_id": line.tenant_id,
                    "reissued_order_line_id": line.order_line_id or line.reissued_order_line_id,
                    "order_number": line.order_number,
                    "description": line.description,
                    "text_kind": line.text_kind,
                    "params": line.params,
                    "period_start": line.period_start,
                    "period_end": line.period_end,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "vat_category": vat.category,
                    "vat_rate": vat.rate,
                    "net": line.net,
                },
            )
            for line in original
        ]
        draft = _draft(
            tenant=tenant,
            partner=partner,
            seller=seller,
            currency=invoice.currency,
            kind=InvoiceKind.INVOICE,
            invoice_date=today,
            lines=lines,
            vat_note=vat.note,
            vat_note_kind=vat.note_kind,
        )
        draft.invoice.reissue_credit_note = note
        drafts_issue(seller=seller, drafts=[draft], actor=actor)
        new = draft.invoice
        audit_record(
            actor=actor,
            action=AuditAction.INVOICE_REISSUED,
            tenant=invoice.tenant_id,
            partner=invoice.partner_id,
            subject=invoice,
            details={
                "invoice": invoice.display_number,
                "credit_note": note.display_number,
                "new_invoice": new.display_number,
                "reason": reason,
            },
        )
    return note, new
