"""Customer invoices to Fortnox once they reach the connection's sending status."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.fortnox.sync.context import TO_REMOTE, Adapter
from integrations.local import invoice_local, invoices_in_status
from integrations.local import text as _text
from records.models import CustomerInvoice


class InvoiceAdapter(Adapter):
    """Invoices in the connection's sending status go to Fortnox (the status steps after
    the sync move them on)."""

    entity_type = "invoice"
    directions = TO_REMOTE

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        return invoice_local(invoice)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Every invoice waiting in the sending status, whenever it got there: they leave it
        # once the system has them, and one skipped earlier is tried again.
        return invoices_in_status(self.tenant_id, self.context.connection.send_status_id)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            name: _text(item.get(name))
            for name in ("DocumentNumber", "CustomerNumber", "ExternalInvoiceReference1", "Total")
        }
        return RemoteRecord(
            id=data["DocumentNumber"],
            key=data["DocumentNumber"],
            name=_text(item.get("CustomerName")),
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _(
                "The customer %(customer)s is not in Fortnox yet (it needs a customer number, "
                "a VAT number and an address)."
            ) % {"customer": local.data["customer"]}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        rows = []
        for row in data["rows"]:
            fortnox_row: dict[str, Any] = {
                "Description": (row["description"] or "")[:255],
                "DeliveredQuantity": row["quantity"],
                "Price": row["unit_price"],
                "VAT": row["vat_rate"],
            }
            article = self.context.remote_id("product", row["product_id"])
            if article:
                fortnox_row["ArticleNumber"] = article
            rows.append(fortnox_row)
        payload: dict[str, Any] = {
            "CustomerNumber": self.context.remote_id("customer", data["customer_id"]),
            "InvoiceDate": data["invoice_date"],
            "Currency": data["currency"],
            "YourReference": (data["reference"] or "")[:50],
            "Remarks": (data["notes"] or "")[:1024],
            "InvoiceRows": rows,
        }
        if data["due_date"]:
            payload["DueDate"] = data["due_date"]
        project = self.context.remote_id("project", data["project_id"])
        if project:
            payload["Project"] = project
        return payload

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        found = self.client.find_invoices_by_reference(reference)
        return self.remote_record(found[0]) if found else None

    # Always a search of Fortnox by ExternalInvoiceReference1.
    lookup_remote = find_remote

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        # An invoice update replaces its rows; update_remote reads the invoice first anyway.
        return False

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = self.create_payload(local)
        payload["ExternalInvoiceReference1"] = reference
        record = self.client.create_invoice(payload)
        self.context.created_invoices.append(local.id)
        return self.remote_record(record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self.client.get_invoice(remote_id)
        if current.get("Booked") or current.get("Cancelled"):
            raise PermanentError(
                _(
                    "Invoice %(number)s is booked or cancelled in Fortnox: the changes made "
                    "in Severa are not sent."
                )
                % {"number": remote_id}
            )
        return self.remote_record(self.client.update_invoice(remote_id, self.update_payload(local)))

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Invoices only go from Severa to Fortnox."))

    update_local = create_local  # type: ignore[assignment]
