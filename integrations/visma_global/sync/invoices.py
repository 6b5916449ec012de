"""Invoices go to Visma Global as orders."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.facts import TO_REMOTE
from integrations.models import EntityMap
from integrations.visma_global.sync.context import Adapter, _text
from records.models import CustomerInvoice


class OrderAdapter(Adapter):
    """Invoices in the sending status → orders (Severa → Visma Global only)."""

    entity_type = "invoice"
    register = "order"
    key_field = "OrderNo"
    name_field = "ExternalRef"
    fields = ("CustomerNo", "ProjectNo", "ExternalRef", "Currency")
    directions = TO_REMOTE
    match_key_only = True

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        rows = list(invoice.rows.all())
        return LocalRecord(
            id=invoice.pk,
            key="",
            name=f"{invoice.number} {invoice.customer.name}".strip(),
            updated_at=max([invoice.updated_at] + [row.updated_at for row in rows]),
            data={
                "customer_id": invoice.customer_id,
                "project_id": invoice.project_id,
                "date": invoice.invoice_date.isoformat(),
                "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
                "currency": invoice.currency,
                "rows": [
                    {
                        "product_id": row.product_id,
                        "description": row.description,
                        "quantity": str(row.quantity),
                        "unit_price": str(row.unit_price),
                        "vat_rate": str(row.vat_rate),
                        "business_unit_id": row.business_unit_id,
                    }
                    for row in sorted(rows, key=lambda r: (r.position, r.pk))
                ],
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        """Invoices in the sending status whose customer is in Visma Global (an invoice
        waits for its customer, which goes once it has a won project, and is read again
        when its customer gets there)."""
        send_status = self.context.connection.send_status_id
        if send_status is None:
            return []
        customers = EntityMap.objects.filter(
            connection_id=self.context.connection.pk, entity_type="customer"
        ).exclude(remote_id=None)
        invoices = CustomerInvoice.objects.filter(
            tenant_id=self.tenant_id,
            status_id=send_status,
            customer_id__in=customers.values("local_id"),
        )
        if since is not None:
            invoices = invoices.filter(
                Q(updated_at__gt=since)
                | Q(rows__updated_at__gt=since)
                | Q(customer_id__in=customers.filter(updated_at__gt=since).values("local_id"))
            ).distinct()
        invoices = invoices.select_related("customer").prefetch_related("rows")
        return [self._local(invoice) for invoice in invoices.order_by("pk")]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _(
                "Its customer is not in Visma Global: "
                "customers go there once they have a won project."
            )
        return None

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: item.get(name) for name in ("OrderNo", *self.fields)}
        return RemoteRecord(
            id=_text(item.get("OrderNo")),
            key=_text(item.get("ExternalRef")),
            name=_text(item.get("ExternalRef")),
            data=data,
        )

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        item = self.channel.call(
            "find", {"register": "order", "field": "ExternalRef", "value": reference}
        )
        return self.remote_record(item) if item else None

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        rows = []
        for row in data["rows"]:
            rows.append(
                {
                    "ArticleNo": self.context.remote_id("product", row["product_id"]) or "",
                    "Text": row["description"][:80],
                    "Quantity": row["quantity"],
                    "Price": row["unit_price"],
                    "VatRate": row["vat_rate"],
                    "DepartmentNo": self.context.remote_id("business_unit", row["business_unit_id"])
                    or "",
                }
            )
        return {
            "CustomerNo": self.context.remote_id("customer", data["customer_id"]),
            "ProjectNo": self.context.remote_id("project", data["project_id"]) or "",
            "OrderDate": data["date"],
            "DueDate": data["due_date"],
            "Currency": data["currency"],
            "Rows": rows,
        }

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        fields = {**self.payload(local, creating=True), "ExternalRef": reference}
        item = self.channel.call(
            "create", {"register": "order", "fields": fields}, write_id=f"{reference}-create"
        )
        return self.remote_record(item)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        raise PermanentError(
            _(
                "The invoice was changed after it was sent to Visma Global as order %(number)s: "
                "change the order there."
            )
            % {"number": remote_id}
        )

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return True

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Orders do not come from Visma Global."))

    update_local = create_local
