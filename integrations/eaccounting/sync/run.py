"""An eEkonomi run: the adapters in order, then the invoice steps (received, booked, paid)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from integrations.eaccounting.client import EAccountingClient
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.eaccounting.sync.context import (
    BOOKED,
    CREDITED,
    DRAFT_GONE,
    PAID,
    PAYMENT_STATUS_PAID,
    Adapter,
    EEkonomiContext,
    _day,
)
from integrations.eaccounting.sync.cost_centres import CostCentreAdapter
from integrations.eaccounting.sync.customers import CustomerAdapter
from integrations.eaccounting.sync.invoices import InvoiceAdapter
from integrations.eaccounting.sync.products import ProductAdapter
from integrations.eaccounting.sync.project_fees import ProjectFeeAdapter
from integrations.eaccounting.sync.projects import ProjectAdapter
from integrations.engine import entity_guard, entity_since, entity_synced, sync_entities
from integrations.errors import (
    AuthorizationError,
    IntegrationError,
    PermanentError,
    PermissionMissing,
)
from integrations.facts import SystemFacts
from integrations.local import decimal_of, invoice_status_move, invoice_status_name, saved, text
from integrations.models import EntityMap, SyncRun, TransferDirection, TransferOutcome
from records.models import CustomerInvoice
from records.services.invoices import customer_invoice_update
from severa import clock


def adapters_for(context: EEkonomiContext) -> list[Adapter]:
    """In dependency order: cost centres, products and customers before projects and
    invoices; projects before fees."""
    return [
        CostCentreAdapter(context),
        ProductAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


def _label(invoice: CustomerInvoice) -> str:
    return f"{invoice} {invoice.customer.name}"[:300]


def invoices_mark_received(context: EEkonomiContext) -> int:
    """Move the invoices whose draft eEkonomi has (nothing changed since) from the sending
    status to the received status."""
    connection = context.connection
    if connection.send_status_id is None or connection.received_status_id is None:
        return 0
    maps = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice"
        ).exclude(remote_id=None)
    }
    status_name = invoice_status_name(connection.received_status_id)
    moved = 0
    invoices = (
        CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, status_id=connection.send_status_id, pk__in=list(maps)
        )
        .select_related("customer")
        .prefetch_related("rows")
    )
    for invoice in invoices:
        entity_map = maps[invoice.pk]
        changed_at = max([invoice.updated_at] + [row.updated_at for row in invoice.rows.all()])
        if entity_map.local_updated_at is None or changed_at > entity_map.local_updated_at:
            continue  # changed after it was sent, and the change failed: it stays
        _invoice_step(
            context,
            invoice,
            entity_map.remote_id or "",
            lambda invoice=invoice: invoice_status_move(invoice, connection.received_status_id),
            _("Sent to eEkonomi as a draft: moved to “%(status)s”.") % {"status": status_name},
        )
        moved += 1
    return moved


def _invoice_step(
    context: EEkonomiContext,
    invoice: CustomerInvoice,
    remote_id: str,
    write: Any,
    reason: str,
    *,
    outcome: str = TransferOutcome.UPDATED,
) -> bool:
    """One change of our invoice from eEkonomi, logged on the invoice; a refusal of the
    records' checks is logged as its failure."""
    try:
        with transaction.atomic():
            if write is not None:
                write()
    except PermanentError as error:
        reason, outcome = str(error), TransferOutcome.FAILED
    context.log(
        "invoice",
        TransferDirection.TO_LOCAL,
        outcome,
        local_id=invoice.pk,
        remote_id=remote_id,
        label=_label(invoice),
        reason=reason,
    )
    return outcome != TransferOutcome.FAILED


def invoices_follow(context: EEkonomiContext) -> None:
    """What happened in eEkonomi to the drafts we sent: booked (number and date written on
    our invoice), deleted without being booked, paid (moved to the paid status), credited
    (reported: it may have been booked again under another number)."""
    connection = context.connection
    client = context.client
    drafts = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("local_id", "remote_id")
    )
    states = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="booked_invoice"
        )
    }
    pending = {local: draft for local, draft in drafts.items() if local not in states}
    following = {local: state for local, state in states.items() if state.remote_hash == BOOKED}
    if not pending and not following:
        return
    since = entity_since(run=context.run, entity_type="booked_invoice") or connection.activated_at
    booked = {
        text(item.get("CreatedFromDraftId")): item
        for item in client.changed("customerinvoices", "ModifiedUtc", since)
    }
    by_id = {item["Id"]: item for item in booked.values()}
    open_drafts = (
        {item["Id"] for item in client.list("customerinvoicedrafts")} if pending else set()
    )
    invoices = {
        invoice.pk: invoice
        for invoice in CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, pk__in=[*pending, *following]
        ).select_related("customer")
    }
    troubles = _drafts_follow(
        context,
        pending=pending,
        open_drafts=open_drafts,
        booked=booked,
        invoices=invoices,
        states=states,
        following=following,
        by_id=by_id,
    )
    troubles += _payments_follow(context, following=following, by_id=by_id, invoices=invoices)
    if troubles == 0:
        entity_synced(run=context.run, entity_type="booked_invoice")


def _drafts_follow(
    context: EEkonomiContext,
    *,
    pending: dict[int, str],
    open_drafts: set[str],
    booked: dict[str, dict],
    invoices: dict[int, CustomerInvoice],
    states: dict[int, EntityMap],
    following: dict[int, EntityMap],
    by_id: dict[str, dict],
) -> int:
    """Drafts no longer open in eEkonomi: booked (their number and date written here, then
    followed for payment) or deleted; the number of invoices that could not be updated."""
    connection = context.connection
    client = context.client
    troubles = 0
    for local_id, draft_id in pending.items():
        invoice = invoices.get(local_id)
        if invoice is None or draft_id in open_drafts:
            continue
        item = booked.get(draft_id) or client.find_by(
            "customerinvoices", "CreatedFromDraftId", draft_id
        )
        if item is None:
            _state(context, local_id, f"gone:{draft_id}", DRAFT_GONE, draft_id)
            _invoice_step(
                context,
                invoice,
                draft_id,
                None,
                _(
                    "The draft was deleted in eEkonomi without being booked: the invoice is "
                    "not sent again and its paid status is not followed. Send it again by "
                    "hand if it should be invoiced."
                ),
                outcome=TransferOutcome.FAILED,
            )
            continue
        number, day = text(item.get("InvoiceNumber")), _day(item.get("InvoiceDate"))
        if _invoice_step(
            context,
            invoice,
            item["Id"],
            lambda invoice=invoice, number=number, day=day: saved(
                lambda: customer_invoice_update(
                    customer_invoice=invoice, data={"number": number, "invoice_date": day}
                )
            ),
            _("Booked in eEkonomi as invoice %(number)s of %(date)s.")
            % {"number": number, "date": day},
        ):
            _state(context, local_id, item["Id"], BOOKED, draft_id)
            following[local_id] = states[local_id] = EntityMap.objects.get(
                connection_id=connection.pk, entity_type="booked_invoice", local_id=local_id
            )
            by_id[item["Id"]] = item
        else:
            troubles += 1
    return troubles


def _payments_follow(
    context: EEkonomiContext,
    *,
    following: dict[int, EntityMap],
    by_id: dict[str, dict],
    invoices: dict[int, CustomerInvoice],
) -> int:
    """Booked invoices credited or paid in eEkonomi; the number of invoices that could not be
    moved to the paid status."""
    troubles = 0
    paid_status = context.connection.paid_status_id
    for local_id, state in following.items():
        item = by_id.get(state.remote_id or "")
        invoice = invoices.get(local_id)
        if item is None or invoice is None:
            continue
        if item.get("CreditedBy"):
            _state(context, local_id, state.remote_id, CREDITED, state.reference)
            _invoice_step(
                context,
                invoice,
                state.remote_id or "",
                None,
                _(
                    "Invoice %(number)s was credited in eEkonomi (perhaps booked again under "
                    "another number): its paid status is no longer followed."
                )
                % {"number": text(item.get("InvoiceNumber"))},
                outcome=TransferOutcome.FAILED,
            )
            continue
        paid = int(item.get("PaymentStatus", -1)) == PAYMENT_STATUS_PAID or (
            item.get("RemainingAmount") is not None and decimal_of(item["RemainingAmount"]) == 0
        )
        if not paid:
            continue
        _state(context, local_id, state.remote_id, PAID, state.reference)
        if paid_status is None or invoice.status_id == paid_status:
            continue
        if not _invoice_step(
            context,
            invoice,
            state.remote_id or "",
            lambda invoice=invoice: invoice_status_move(invoice, paid_status),
            _("Paid in eEkonomi: moved to “%(status)s”.")
            % {"status": invoice_status_name(paid_status)},
        ):
            troubles += 1
    return troubles


def _state(
    context: EEkonomiContext, local_id: int, remote_id: str | None, state: str, draft_id: str
) -> None:
    now = clock.now()
    EntityMap.objects.update_or_create(
        connection_id=context.connection.pk,
        entity_type="booked_invoice",
        local_id=local_id,
        defaults={
            "tenant_id": context.tenant_id,
            "remote_id": remote_id,
            "reference": draft_id[:100],
            "remote_hash": state,
            "updated_at": now,
        },
        create_defaults={
            "tenant_id": context.tenant_id,
            "remote_id": remote_id,
            "reference": draft_id[:100],
            "remote_hash": state,
            "created_at": now,
            "updated_at": now,
        },
    )


def eekonomi_sync(
    run: SyncRun, client: EAccountingClient, facts: SystemFacts = EACCOUNTING_FACTS
) -> dict[str, int]:
    """One run: every entity type through the engine, then the invoice steps (skipped while
    invoices are blocked). Returns the counts per outcome (also on the run)."""
    context = EEkonomiContext(run, client, facts)
    sync_entities(run=run, adapters=adapters_for(context), facts=facts)
    run.counts = dict(run.counts or {})
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            try:
                invoices_follow(context)
            except (AuthorizationError, PermissionMissing):
                raise
            except IntegrationError as error:
                context.log(
                    "invoice",
                    TransferDirection.TO_LOCAL,
                    TransferOutcome.FAILED,
                    label=_("Invoices booked in eEkonomi"),
                    reason=str(error),
                )
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
