"""A Fortnox run: the adapters in order, then the invoice status steps and attachments."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import AmbiguousWrite, IntegrationError, PermanentError, PermissionMissing
from integrations.facts import SystemFacts
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.fortnox.sync.context import Adapter, FortnoxContext
from integrations.fortnox.sync.customers import CustomerAdapter
from integrations.fortnox.sync.invoices import InvoiceAdapter
from integrations.fortnox.sync.products import ProductAdapter
from integrations.fortnox.sync.project_fees import ProjectFeeAdapter
from integrations.fortnox.sync.projects import ProjectAdapter
from integrations.fortnox.sync.units import UnitAdapter
from integrations.local import decimal_of as _decimal
from integrations.local import invoice_status_name as _status_name
from integrations.local import saved as _saved
from integrations.local import text as _text
from integrations.models import EntityMap, SyncRun, TransferDirection, TransferOutcome
from records.models import CustomerInvoice, CustomerInvoiceAttachment, InvoiceStatus
from records.services.invoices import customer_invoice_update
from severa import clock


def adapters_for(context: FortnoxContext) -> list[Adapter]:
    """In dependency order: units before products, customers and products before invoices,
    projects before invoices and fees."""
    return [
        UnitAdapter(context),
        ProductAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


def _status_move(
    context: FortnoxContext, invoice: CustomerInvoice, status_id: int, remote_id: str | None
) -> bool:
    """Move `invoice` to the status through records.services; a refusal is logged as the
    invoice's failure (False)."""
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    try:
        _saved(lambda: customer_invoice_update(customer_invoice=invoice, data={"status": status}))
    except PermanentError as error:
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.FAILED,
            local_id=invoice.pk,
            remote_id=remote_id or "",
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=str(error),
        )
        return False
    return True


def invoices_mark_received(context: FortnoxContext) -> int:
    """Move the invoices Fortnox has (paired, nothing changed since) from the sending
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
    moved = 0
    status_name = _status_name(connection.received_status_id)
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
        if not _status_move(context, invoice, connection.received_status_id, entity_map.remote_id):
            continue
        moved += 1
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.UPDATED,
            local_id=invoice.pk,
            remote_id=entity_map.remote_id or "",
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=_("Received by Fortnox as invoice %(number)s: moved to “%(status)s”.")
            % {"number": entity_map.remote_id, "status": status_name},
        )
    return moved


def invoices_mark_paid(context: FortnoxContext) -> int:
    """Move the invoices Fortnox shows paid (balance 0, booked, not cancelled) to the paid
    status, when the connection has one."""
    connection = context.connection
    if connection.paid_status_id is None:
        return 0
    since = entity_since(run=context.run, entity_type="invoice")
    paid_numbers = {
        _text(item.get("DocumentNumber"))
        for item in context.client.list_invoices(filter="fullypaid", lastmodified=since)
        if _decimal(item.get("Balance")) == 0 and item.get("Booked") and not item.get("Cancelled")
    }
    if not paid_numbers:
        return 0
    maps = dict(
        EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice", remote_id__in=paid_numbers
        ).values_list("local_id", "remote_id")
    )
    status_name = _status_name(connection.paid_status_id)
    moved = 0
    invoices = CustomerInvoice.objects.filter(tenant_id=context.tenant_id, pk__in=list(maps))
    for invoice in invoices.exclude(status_id=connection.paid_status_id).select_related("customer"):
        if not _status_move(context, invoice, connection.paid_status_id, maps[invoice.pk]):
            continue
        moved += 1
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.UPDATED,
            local_id=invoice.pk,
            remote_id=maps[invoice.pk],
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=_("Paid in Fortnox: moved to “%(status)s”.") % {"status": status_name},
        )
    return moved


def invoice_attachments_send(context: FortnoxContext) -> int:
    """When the tenant chose to transfer attachments: every attachment of an invoice
    Fortnox has is uploaded to the Fortnox inbox and attached to the invoice (included when
    Fortnox sends it), once each. Returns how many were attached in this run."""
    connection = context.connection
    if not connection.transfer_attachments:
        return 0
    invoice_numbers = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("local_id", "remote_id")
    )
    if not invoice_numbers:
        return 0
    attached = EntityMap.objects.filter(
        connection_id=connection.pk, entity_type="invoice_attachment"
    ).exclude(remote_id=None)
    attachments = (
        CustomerInvoiceAttachment.objects.filter(
            tenant_id=context.tenant_id, invoice_id__in=list(invoice_numbers)
        )
        .exclude(pk__in=attached.values("local_id"))
        .select_related("invoice")
        .order_by("pk")
    )
    sent = 0
    for attachment in attachments:
        label = f"{attachment.invoice} {attachment.file_name}"[:300]
        try:
            sent += _attachment_send(context, attachment, invoice_numbers[attachment.invoice_id])
        except PermissionMissing:
            raise
        except IntegrationError as error:
            context.log(
                "invoice_attachment",
                TransferDirection.TO_REMOTE,
                TransferOutcome.FAILED,
                local_id=attachment.pk,
                label=label,
                reason=str(error),
            )
    return sent


def _attachment_send(
    context: FortnoxContext, attachment: CustomerInvoiceAttachment, document_number: str
) -> int:
    """Upload (once: the file id is kept as the pairing's reference) and attach (once: an
    attach whose answer was lost is looked for among the invoice's attachments first)."""
    client = context.client
    now = clock.now()
    entity_map, _created = EntityMap.objects.get_or_create(
        connection_id=context.connection.pk,
        entity_type="invoice_attachment",
        local_id=attachment.pk,
        defaults={
            "tenant_id": context.tenant_id,
            "reference": "",
            "created_at": now,
            "updated_at": now,
        },
    )
    label = f"{attachment.invoice} {attachment.file_name}"[:300]
    if not entity_map.reference:
        uploaded = client.inbox_upload(
            attachment.file_name,
            bytes(attachment.content),
            attachment.content_type or "application/octet-stream",
        )
        entity_map.reference = f"file:{uploaded.get('ArchiveFileId') or uploaded['Id']}"
        entity_map.updated_at = clock.now()
        entity_map.save(update_fields=["reference", "updated_at"])
    file_id = entity_map.reference.removeprefix("file:")
    found = None
    if entity_map.update_unverified:
        found = next(
            (
                existing
                for existing in client.attachments_of(document_number)
                if existing.get("fileId") == file_id
            ),
            None,
        )
    if found is None:
        try:
            found = client.attachment_connect(entity_id=document_number, file_id=file_id)
        except AmbiguousWrite:
            entity_map.update_unverified = True
            entity_map.save(update_fields=["update_unverified"])
            context.log(
                "invoice_attachment",
                TransferDirection.TO_REMOTE,
                TransferOutcome.UNVERIFIED,
                local_id=attachment.pk,
                label=label,
                reason=_(
                    "The attachment was sent but Fortnox did not answer: the invoice's "
                    "attachments are read before it is attached again."
                ),
            )
            return 0
    entity_map.remote_id = str(found.get("id"))
    entity_map.update_unverified = False
    entity_map.updated_at = clock.now()
    entity_map.save(update_fields=["remote_id", "update_unverified", "updated_at"])
    context.log(
        "invoice_attachment",
        TransferDirection.TO_REMOTE,
        TransferOutcome.CREATED,
        local_id=attachment.pk,
        remote_id=entity_map.remote_id,
        label=label,
        reason=_("Uploaded to the Fortnox inbox and attached to invoice %(number)s.")
        % {"number": document_number},
    )
    return 1


def fortnox_sync(
    run: SyncRun, client: FortnoxClient, facts: SystemFacts = FORTNOX_FACTS
) -> dict[str, int]:
    """One run of a Fortnox connection: every entity type through the engine, then the
    invoice status steps (each skipped while its entity type is blocked). Returns the
    counts per outcome (also on the run)."""
    context = FortnoxContext(run, client, facts)
    sync_entities(run=run, adapters=adapters_for(context), facts=facts)
    run.counts = dict(run.counts or {})
    with entity_guard(run, "invoice_attachment", facts) as allowed:
        if allowed:
            invoice_attachments_send(context)
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoices_mark_paid(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
