"""Supplier-invoice rows booked to a project come back as project fees."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.facts import TO_LOCAL
from integrations.local import saved as record_saved
from integrations.vismanet.sync.context import RELEASED, Adapter, _decimal, _text
from records.models import Product, ProjectFee
from records.models import Project as SeveraProject
from records.services.customers import project_fee_create, project_fee_update
from severa import clock


class ProjectFeeAdapter(Adapter):
    """Lines of released supplier invoices booked to a project → project fees, once each
    (keyed by the document type, reference number and line number)."""

    entity_type = "project_fee"
    directions = TO_LOCAL
    path = "supplierInvoice"

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterator[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        for invoice in self.client.list(self.path, changed_since=since):
            if invoice.get("status") in RELEASED:
                yield from self.fee_lines(invoice)

    def fee_lines(self, invoice: dict) -> Iterator[RemoteRecord]:
        reference = _text(invoice.get("referenceNumber"))
        document_type = _text(invoice.get("documentType"))
        for line in invoice.get("invoiceLines") or []:
            project = _text((line.get("project") or {}).get("id"))
            cost = _decimal(line.get("cost"))
            if not project or cost <= 0:
                continue
            number = _text(line.get("lineNumber"))
            description = _text(line.get("transactionDescription")) or _text(
                invoice.get("description")
            )
            yield RemoteRecord(
                id=f"{document_type}-{reference}-{number}",
                key=f"{reference}/{number}",
                name=description,
                data={
                    "project": project,
                    "item": _text(line.get("inventoryNumber")),
                    "description": description,
                    "cost": _text(cost),
                    "quantity": _text(line.get("quantity")),
                    "date": _text(invoice.get("date"))[:10],
                    "supplier": _text((invoice.get("supplier") or {}).get("name")),
                    "reference": _text(invoice.get("supplierReference")),
                },
            )

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not SeveraProject.objects.filter(
            tenant_id=self.tenant_id, number=remote.data["project"]
        ).exists():
            return _("Severa has no project %(number)s.") % {"number": remote.data["project"]}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None  # only the entity map pairs fees: each line comes once

    def _product(self, item: str) -> Product | None:
        if item:
            product = Product.objects.filter(tenant_id=self.tenant_id, code=item).first()
            if product is not None:
                return product
        default_id = self.context.connection.default_product_id
        if default_id is None:
            return None
        return Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        quantity = _decimal(data["quantity"]) or Decimal(1)
        # The line's cost is without VAT; the sales VAT is added when the fee is invoiced.
        unit_cost = (_decimal(data["cost"]) / quantity).quantize(Decimal("0.01"))
        product = self._product(data["item"])
        return {
            "project": SeveraProject.objects.get(tenant_id=self.tenant_id, number=data["project"]),
            "product": product,
            "description": " – ".join(
                part for part in (data["supplier"], data["reference"], data["description"]) if part
            )[:500],
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else clock.today(),
            "quantity": quantity,
            "unit_cost": unit_cost,
            "unit_price": unit_cost if product is not None else Decimal(0),
            "is_billable": product is not None,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = record_saved(
            lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        fee = ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        fee = record_saved(lambda: project_fee_update(project_fee=fee, data=self._data(remote)))
        return self._local(fee)

    def remote_record(self, item: dict) -> RemoteRecord:  # pragma: no cover
        raise NotImplementedError
