"""Supplier-invoice rows booked to a project come back as project fees."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import Adapter, _day
from integrations.facts import TO_LOCAL
from integrations.local import decimal_of, saved, text
from records.models import Product, ProjectFee
from records.models import Project as SeveraProject
from records.services.customers import project_fee_create, project_fee_update
from severa import clock


class ProjectFeeAdapter(Adapter):
    """Rows of booked supplier invoices with a project → project fees, once each."""

    entity_type = "project_fee"
    path = "supplierinvoices"
    stamp = "ModifiedUtc"
    directions = TO_LOCAL

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def list_remote(self, changed_since: datetime.datetime | None) -> list[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        records = []
        for invoice in self.client.changed(self.path, self.stamp, since):
            if int(invoice.get("Status") or 0) != 1:  # 1: booked (0 draft, 2 deleted)
                continue
            for row in invoice.get("Rows") or []:
                amount = decimal_of(row.get("DebetAmount")) - decimal_of(row.get("CreditAmount"))
                if not row.get("ProjectId") or amount <= 0:
                    continue
                description = (
                    text(row.get("TransactionText"))
                    or text(row.get("AccountName"))
                    or text(invoice.get("SupplierName"))
                )
                records.append(
                    RemoteRecord(
                        id=text(row.get("Id")),
                        key=f"{text(invoice.get('InvoiceNumber'))}/{text(row.get('LineNumber'))}",
                        name=description,
                        data={
                            "project": text(row.get("ProjectId")),
                            "amount": str(amount),
                            "description": description,
                            "date": text(invoice.get("InvoiceDate")),
                            "supplier": text(invoice.get("SupplierName")),
                            "invoice": text(invoice.get("InvoiceNumber")),
                        },
                    )
                )
        return records

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if self.context.local_id("project", remote.data["project"]) is None:
            return _("The project of the row is not one Severa sent to eEkonomi.")
        return None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        default_id = self.context.connection.default_product_id
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()
            if default_id
            else None
        )
        amount = decimal_of(data["amount"]).quantize(Decimal("0.01"))
        return {
            "project": SeveraProject.objects.get(
                tenant_id=self.tenant_id, pk=self.context.local_id("project", data["project"])
            ),
            "product": product,
            "description": " – ".join(
                part for part in (data["supplier"], data["invoice"], data["description"]) if part
            )[:500],
            "date": _day(data["date"]) or clock.today(),
            "quantity": Decimal(1),
            # Without VAT: the sales VAT is added when the fee is invoiced from Severa.
            "unit_cost": amount,
            "unit_price": amount if product is not None else Decimal(0),
            "is_billable": product is not None,
        }

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = saved(lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote)))
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        fee = ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        fee = saved(lambda: project_fee_update(project_fee=fee, data=self._data(remote)))
        return self._local(fee)
