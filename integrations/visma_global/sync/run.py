"""A Visma Global run: the adapters in order, then the invoice states (sent, paid)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.agents import AgentChannel
from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import PermanentError
from integrations.facts import SystemFacts
from integrations.local import saved as local_saved
from integrations.models import EntityMap, SyncRun, TransferDirection, TransferOutcome
from integrations.visma_global.facts import VISMA_GLOBAL_FACTS
from integrations.visma_global.sync.context import Adapter, VismaGlobalContext, _iso, _text
from integrations.visma_global.sync.customers import CustomerAdapter
from integrations.visma_global.sync.departments import DepartmentAdapter
from integrations.visma_global.sync.employees import EmployeeAdapter
from integrations.visma_global.sync.invoices import OrderAdapter
from integrations.visma_global.sync.products import ArticleAdapter
from integrations.visma_global.sync.projects import ProjectAdapter
from integrations.visma_global.sync.supplier_invoices import SupplierInvoiceAdapter
from records.models import CustomerInvoice, InvoiceStatus
from records.services.invoices import customer_invoice_update
from records.services.organisation import employee_sync_from_members


def adapters_for(context: VismaGlobalContext) -> list[Adapter]:
    """Dependencies first: departments, employees and products, then customers, projects,
    orders and supplier invoices."""
    return [
        DepartmentAdapter(context),
        EmployeeAdapter(context),
        ArticleAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        OrderAdapter(context),
        SupplierInvoiceAdapter(context),
    ]


def _status_move(
    context: VismaGlobalContext,
    invoice: CustomerInvoice,
    status_id: int,
    reason: str,
    remote_id: str,
) -> bool:
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    label = f"{invoice.number} {invoice.customer.name}".strip()[:300]
    try:
        local_saved(
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
        reason=reason,
    )
    return True


def invoice_states_apply(context: VismaGlobalContext) -> int:
    """Orders Visma Global has made invoices of and sent → the received (sent) status;
    paid ones → the paid status. Returns how many invoices moved."""
    connection = context.connection
    maps = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("remote_id", "local_id")
    )
    if not maps:
        return 0
    since = entity_since(run=context.run, entity_type="invoice_state")
    states = context.channel.call("order_states", {"changed_since": _iso(since)}) or []
    moved = 0
    for state in states:
        local_id = maps.get(_text(state.get("OrderNo")))
        if local_id is None:
            continue
        invoice = (
            CustomerInvoice.objects.select_related("customer")
            .filter(tenant_id=context.tenant_id, pk=local_id)
            .first()
        )
        if invoice is None:
            continue
        number = _text(state.get("InvoiceNo"))
        target, reason = None, ""
        if (
            state.get("Paid")
            and connection.paid_status_id
            and invoice.status_id != connection.paid_status_id
        ):
            target = connection.paid_status_id
            reason = _("Paid in Visma Global (invoice %(number)s).") % {"number": number}
        elif (
            state.get("Sent")
            and connection.received_status_id
            and invoice.status_id not in (connection.received_status_id, connection.paid_status_id)
        ):
            target = connection.received_status_id
            reason = _("Invoiced and sent in Visma Global as invoice %(number)s.") % {
                "number": number
            }
        if target and _status_move(context, invoice, target, reason, _text(state.get("OrderNo"))):
            moved += 1
    return moved


def visma_global_sync(
    run: SyncRun, channel: AgentChannel, facts: SystemFacts = VISMA_GLOBAL_FACTS
) -> dict[str, int]:
    """One run: every user is an employee first, then each entity type through the engine,
    then the invoice states from Visma Global."""
    context = VismaGlobalContext(run, channel, facts)
    employee_sync_from_members(tenant=context.tenant)
    sync_entities(run=run, adapters=adapters_for(context), facts=facts)
    run.counts = dict(run.counts or {})
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoice_states_apply(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
