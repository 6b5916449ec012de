"""A Visma.net run: the adapters in order, then the invoice status steps."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import PermanentError
from integrations.facts import SystemFacts
from integrations.local import saved as record_saved
from integrations.models import EntityMap, SyncRun, TransferDirection, TransferOutcome
from integrations.vismanet.client import VismaNetClient
from integrations.vismanet.facts import VISMANET_FACTS
from integrations.vismanet.sync.context import Adapter, VismaNetContext, _decimal, _text
from integrations.vismanet.sync.customers import CustomerAdapter
from integrations.vismanet.sync.invoices import InvoiceAdapter
from integrations.vismanet.sync.products import ProductAdapter
from integrations.vismanet.sync.project_fees import ProjectFeeAdapter
from integrations.vismanet.sync.projects import ProjectAdapter
from records.models import CustomerInvoice, InvoiceStatus
from records.services.invoices import customer_invoice_update


def adapters_for(context: VismaNetContext) -> list[Adapter]:
    """Dependencies first: customers and items before projects and invoices."""
    return [
        CustomerAdapter(context),
        ProductAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


def _status_move(
    context: VismaNetContext, invoice: CustomerInvoice, status_id: int, remote_id: str, why: str
) -> bool:
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    label = f"{invoice} {invoice.customer.name}"[:300]
    try:
        record_saved(
            lambda: customer_invoice_update(customer_invoice=invoice, data={"status": status})
        )
    except PermanentError as error:
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.FAILED,
            local_id=invoice.pk,
            remote_id=remote_id,
            label=label,
            reason=str(error),
        )
        return False
    context.log(
        "invoice",
        TransferDirection.TO_LOCAL,
        TransferOutcome.UPDATED,
        local_id=invoice.pk,
        remote_id=remote_id,
        label=label,
        reason=why % {"number": remote_id, "status": status.name if status else ""},
    )
    return True


def invoices_mark_received(context: VismaNetContext) -> int:
    """The invoices Visma.net has (paired, unchanged since) move from the sending status to
    the received status."""
    connection = context.connection
    if connection.send_status_id is None or connection.received_status_id is None:
        return 0
    maps = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice"
        ).exclude(remote_id=None)
    }
    invoices = (
        CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, status_id=connection.send_status_id, pk__in=list(maps)
        )
        .select_related("customer")
        .prefetch_related("rows")
    )
    moved = 0
    for invoice in invoices:
        entity_map = maps[invoice.pk]
        changed_at = max([invoice.updated_at] + [row.updated_at for row in invoice.rows.all()])
        if entity_map.local_updated_at is None or changed_at > entity_map.local_updated_at:
            continue
        moved += _status_move(
            context,
            invoice,
            connection.received_status_id,
            entity_map.remote_id or "",
            _("Received by Visma.net ERP as invoice %(number)s: moved to “%(status)s”."),
        )
    return moved


def invoices_mark_paid(context: VismaNetContext) -> int:
    """The invoices Visma.net shows paid (status Closed, balance 0) move to the paid status,
    when the connection has one."""
    connection = context.connection
    if connection.paid_status_id is None:
        return 0
    since = entity_since(run=context.run, entity_type="invoice")
    paid = {
        _text(item.get("referenceNumber"))
        for item in context.client.list("customerinvoice", changed_since=since, status="Closed")
        if _decimal(item.get("balance")) == 0
    }
    if not paid:
        return 0
    maps = dict(
        EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice", remote_id__in=paid
        ).values_list("local_id", "remote_id")
    )
    invoices = (
        CustomerInvoice.objects.filter(tenant_id=context.tenant_id, pk__in=list(maps))
        .exclude(status_id=connection.paid_status_id)
        .select_related("customer")
    )
    return sum(
        _status_move(
            context,
            invoice,
            connection.paid_status_id,
            maps[invoice.pk],
            _("Paid in Visma.net ERP (invoice %(number)s closed): moved to “%(status)s”."),
        )
        for invoice in invoices
    )


def vismanet_sync(
    run: SyncRun, client: VismaNetClient, facts: SystemFacts = VISMANET_FACTS
) -> dict[str, int]:
    """One run of a Visma.net ERP connection: every entity type through the engine, then the
    invoice status steps (the paid step skipped while invoices are blocked)."""
    context = VismaNetContext(run, client, facts)
    sync_entities(run=run, adapters=adapters_for(context), facts=facts)
    run.counts = dict(run.counts or {})
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoices_mark_paid(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
