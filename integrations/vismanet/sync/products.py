"""Products and Visma.net inventory items."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as record_saved
from integrations.vismanet.sync.context import VAT_RATES, Adapter, _decimal, _text, vat_code
from records.models import Product, Unit
from records.services.products import product_create, product_update


class ProductAdapter(Adapter):
    entity_type = "product"
    path = "inventory"
    key_field = "inventoryNumber"

    def _local(self, product: Product) -> LocalRecord:
        return LocalRecord(
            id=product.pk,
            key=product.code,
            name=product.name,
            updated_at=product.updated_at,
            data={
                "unit": product.unit.code if product.unit else "",
                "vat_rate": product.vat_rate,
                "price": product.price,
                "is_active": product.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id).select_related("unit")
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "inventoryNumber": _text(item.get("inventoryNumber")),
            "description": _text(item.get("description")),
            "status": _text(item.get("status")),
            "baseUnit": _text(item.get("baseUnit")),
            "salesUnit": _text(item.get("salesUnit")),
            "defaultPrice": _text(item.get("defaultPrice")),
            "vatCode": _text((item.get("vatCode") or {}).get("id")),
        }
        return RemoteRecord(
            id=data["inventoryNumber"],
            key=data["inventoryNumber"],
            name=data["description"],
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("The product needs a code: it is the item number in Visma.net ERP.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _("The item number is not numeric: Severa product codes are numbers.")
        unit = remote.data["salesUnit"] or remote.data["baseUnit"]
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        unit = local.data.get("unit") or ""
        payload: dict[str, Any] = {
            "description": local.name[:255],
            "status": "Active" if local.data.get("is_active", True) else "Inactive",
            "defaultPrice": local.data.get("price") or Decimal(0),
        }
        # A rate without a Norwegian VAT code leaves the item's VAT code to Visma.net.
        code = vat_code(local.data["vat_rate"])
        if code:
            payload["vatCode"] = code
        if unit:
            payload.update(baseUnit=unit, salesUnit=unit, purchaseUnit=unit)
        if creating:
            payload["inventoryNumber"] = local.key
            payload["type"] = "NonStockItem"
        return payload

    def comparable(self, local: LocalRecord) -> dict:
        payload = self.remote_payload(local, creating=False)
        if "vatCode" in payload:
            payload["vatCode"] = {"id": payload["vatCode"]}
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else self._local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit = remote.data["salesUnit"] or remote.data["baseUnit"]
        return {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit).first()
            if unit
            else None,
            "price": _decimal(remote.data["defaultPrice"]),
            "vat_rate": VAT_RATES.get(remote.data["vatCode"], Decimal(0)),
            "is_active": remote.data["status"] not in ("Inactive", "MarkedForDeletion"),
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = record_saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = record_saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)
