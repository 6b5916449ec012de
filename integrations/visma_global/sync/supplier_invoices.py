"""Supplier invoices with a project come back as project fees."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.facts import TO_LOCAL
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import Adapter, _decimal, _iso, _text
from records.models import Product, ProjectFee
from records.models import Project as SeveraProject
from records.services.customers import project_fee_create
from severa import clock


class SupplierInvoiceAdapter(Adapter):
    """Supplier-invoice rows booked to a project → project fees, once each, billable or
    cost only as the connection says."""

    entity_type = "project_fee"
    directions = TO_LOCAL

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        records = []
        for invoice in self.channel.call("supplier_invoices", {"changed_since": _iso(since)}) or []:
            for row in invoice.get("Rows") or []:
                project = _text(row.get("ProjectNo"))
                if not project or _decimal(row.get("Amount")) <= 0:
                    continue
                number = _text(invoice.get("SupplierInvoiceNo"))
                records.append(
                    RemoteRecord(
                        id=f"{number}-{row.get('RowNo')}",
                        key=f"{number}/{row.get('RowNo')}",
                        name=_text(row.get("Text")) or _text(invoice.get("SupplierName")),
                        data={
                            "project": project,
                            "article": _text(row.get("ArticleNo")),
                            "text": _text(row.get("Text")),
                            "amount": _text(row.get("Amount")),
                            "quantity": _text(row.get("Quantity")),
                            "date": _text(invoice.get("InvoiceDate")),
                            "supplier": _text(invoice.get("SupplierName")),
                            "invoice": number,
                        },
                    )
                )
        return records

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not SeveraProject.objects.filter(
            tenant_id=self.tenant_id, number=remote.data["project"]
        ).exists():
            return _("Severa has no project %(number)s.") % {"number": remote.data["project"]}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None  # only the entity map pairs fees: each row comes once

    def _product(self, article: str) -> Product | None:
        if article:
            product = Product.objects.filter(tenant_id=self.tenant_id, code=article).first()
            if product is not None:
                return product
        default_id = self.context.connection.default_product_id
        return (
            Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()
            if default_id
            else None
        )

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        quantity = _decimal(data["quantity"]) or Decimal(1)
        unit_cost = (_decimal(data["amount"]) / quantity).quantize(Decimal("0.01"))
        billable = bool(self.context.options.get("supplier_invoices_billable", True))
        return {
            "project": SeveraProject.objects.get(tenant_id=self.tenant_id, number=data["project"]),
            "product": self._product(data["article"]),
            "description": " – ".join(
                p for p in (data["supplier"], data["invoice"], data["text"]) if p
            )[:500],
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else clock.today(),
            "quantity": quantity,
            "unit_cost": unit_cost,
            "unit_price": unit_cost if billable else Decimal(0),
            "is_billable": billable,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = local_saved(
            lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        return self._local(ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id))

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:  # pragma: no cover
        raise PermanentError(_("Project costs only come from Visma Global."))

    update_remote = create_remote  # type: ignore[assignment]
