"""Customer invoices to Visma.net."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.facts import TO_REMOTE
from integrations.local import invoice_local, invoices_in_status
from integrations.models import EntityMap
from integrations.vismanet.segments import row_subaccount, segment_settings
from integrations.vismanet.sync.context import Adapter, VismaNetContext, _text, vat_code
from records.models import BusinessUnit, CostCentre, CustomerInvoice


class InvoiceAdapter(Adapter):
    entity_type = "invoice"
    directions = TO_REMOTE
    path = "customerinvoice"
    key_field = "referenceNumber"

    def __init__(self, context: VismaNetContext):
        super().__init__(context)
        self._notes: dict[int, str] = {}

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        return invoice_local(invoice)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Every invoice waiting in the sending status, whenever it got there: they leave it
        # once the system has them, and one skipped earlier is tried again.
        return invoices_in_status(self.tenant_id, self.context.connection.send_status_id)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "referenceNumber": _text(item.get("referenceNumber")),
            "customer": _text((item.get("customer") or {}).get("number")),
            "externalReference": _text(item.get("externalReference")),
            "amount": _text(item.get("amount")),
        }
        return RemoteRecord(
            id=data["referenceNumber"],
            key=data["referenceNumber"],
            name=_text((item.get("customer") or {}).get("name")),
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _("The customer %(customer)s is not in Visma.net ERP yet.") % {
                "customer": local.data["customer"]
            }
        return None

    def _lines(self, local: LocalRecord) -> list[dict]:
        settings = segment_settings(connection=self.context.connection)
        picked = settings.department_segment is not None or settings.cost_centre_segment is not None
        segments = self.context.segments() if picked else {}
        rows = local.data["rows"]
        units = BusinessUnit.objects.in_bulk(
            {row["business_unit_id"] for row in rows if row["business_unit_id"]}
        )
        centres = CostCentre.objects.in_bulk(
            {row["cost_centre_id"] for row in rows if row["cost_centre_id"]}
        )
        lines, notes = [], []
        for number, row in enumerate(rows, start=1):
            values: dict[str, Any] = {
                "description": (row["description"] or "")[:255],
                "quantity": row["quantity"],
                "unitPriceInCurrency": row["unit_price"],
            }
            code = vat_code(row["vat_rate"])
            if code:
                values["vatCodeId"] = code
            else:
                notes.append(
                    _(
                        "Row %(row)s: no Norwegian VAT code for %(rate)s %%, Visma.net ERP "
                        "applies the item's and customer's VAT."
                    )
                    % {"row": number, "rate": _text(row["vat_rate"])}
                )
            item = self.context.remote_id("product", row["product_id"])
            if item:
                values["inventoryNumber"] = item
            line: dict[str, Any] = {
                "operation": "Insert",
                **{k: {"value": v} for k, v in values.items()},
            }
            if picked:
                subaccount = row_subaccount(
                    settings=settings,
                    segments=segments,
                    business_unit=units.get(row["business_unit_id"]),
                    cost_centre=centres.get(row["cost_centre_id"]),
                )
                line["subaccount"] = subaccount.segments
                notes += [
                    _("Row %(row)s: %(note)s.") % {"row": number, "note": note}
                    for note in subaccount.notes
                ]
            lines.append(line)
        self._notes[local.id] = " ".join(notes)
        return lines

    def transfer_note(self, local: LocalRecord) -> str:
        return self._notes.get(local.id, "")

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        payload: dict[str, Any] = {
            "customerNumber": self.context.remote_id("customer", data["customer_id"]),
            "documentDate": data["invoice_date"],
            "currencyId": data["currency"],
            "customerRefNumber": (data["reference"] or "")[:30],
            "invoiceText": (data["notes"] or "")[:255] or local.key,
            "invoiceLines": self._lines(local),
        }
        if data["due_date"]:
            payload["documentDueDate"] = data["due_date"]
        project = self.context.remote_id("project", data["project_id"])
        if project:
            payload["project"] = project
        return payload

    def _by_reference(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        customer = self.context.remote_id("customer", local.data["customer_id"])
        for item in self.client.list(self.path, customer=customer):
            if item.get("externalReference") == reference:
                return self.remote_record(item)
        return None

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        # Only an invoice whose create was begun (its intent is written before the call)
        # can be in Visma.net: the others are not looked for.
        begun = EntityMap.objects.filter(
            connection_id=self.context.connection.pk, entity_type="invoice", local_id=local.id
        ).exists()
        return self._by_reference(local, reference) if begun else None

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        return self._by_reference(local, reference)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return False  # an update replaces the lines: update_remote reads the invoice first

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = self.remote_payload(local, creating=True)
        payload["externalReference"] = reference
        return self.remote_record(self.client.create(self.path, payload))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self.client.get(self.path, remote_id)
        if current.get("status") not in ("Balanced", "Hold"):
            raise PermanentError(
                _(
                    "Invoice %(number)s is released in Visma.net ERP: the changes made in "
                    "Severa are not sent."
                )
                % {"number": remote_id}
            )
        payload = self.remote_payload(local, creating=False)
        payload["invoiceLines"] = [
            {"operation": "Delete", "lineNumber": {"value": line["lineNumber"]}}
            for line in current.get("invoiceLines") or []
        ] + payload["invoiceLines"]
        record = self.client.update(
            self.path, remote_id, payload, etag=_text(current.get("timeStamp"))
        )
        return self.remote_record(record)

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Invoices only go from Severa to Visma.net ERP."))

    update_local = create_local  # type: ignore[assignment]
