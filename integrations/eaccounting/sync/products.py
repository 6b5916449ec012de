"""Products and eEkonomi articles."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import Adapter
from integrations.local import decimal_of, product_local, products_changed_since, saved, text
from records.models import Product, ProductKind, Unit
from records.services.products import product_create, product_update


class ProductAdapter(Adapter):
    entity_type = "product"
    path = "articles"
    marker = "Number"

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return products_changed_since(self.tenant_id, since)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "Number": text(item.get("Number")),
            "Name": text(item.get("Name")),
            "IsActive": text(item.get("IsActive")),
            "NetPrice": text(decimal_of(item.get("NetPrice")).normalize()),
            "Unit": self.context.unit_code(text(item.get("UnitId"))),
            "VatRate": text(self.context.coding_rate(text(item.get("CodingId")))),
        }
        return RemoteRecord(id=item["Id"], key=data["Number"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("The product needs a code: it is the article number in eEkonomi.")
        unit = local.data.get("unit")
        if not unit:
            return _(
                "eEkonomi needs a unit for every article: give the product one of eEkonomi's units."
            )
        if self.context.unit_id(unit) is None:
            return _(
                "eEkonomi has no unit %(unit)s, and its units cannot be added through the "
                "API: give the product one of eEkonomi's units (%(units)s)."
            ) % {
                "unit": unit,
                "units": ", ".join(text(u.get("Code")) for u in self.context.register("units")),
            }
        if self._coding(local) is None:
            return _("eEkonomi has no active account coding for VAT %(rate)s %%.") % {
                "rate": local.data.get("vat_rate")
            }
        return None

    def _coding(self, local: LocalRecord) -> dict | None:
        return self.context.coding(
            vat_rate=Decimal(local.data.get("vat_rate") or 0),
            goods=local.data.get("kind") == ProductKind.PRODUCT,
        )

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        coding = self._coding(local) or {}
        return {
            "Number": local.key,
            "Name": local.name[:50],
            "IsActive": bool(local.data.get("is_active", True)),
            "NetPrice": local.data.get("price") or Decimal(0),
            "UnitId": self.context.unit_id(local.data.get("unit") or ""),
            "CodingId": coding.get("Id"),
            "IsServiceArticle": local.data.get("kind") != ProductKind.PRODUCT,
        }

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _("The article number is not digits only: Severa product codes are digits.")
        unit = remote.data.get("Unit")
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else product_local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit = remote.data.get("Unit")
        return {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit).first()
            if unit
            else None,
            "vat_rate": decimal_of(remote.data.get("VatRate")),
            "price": decimal_of(remote.data.get("NetPrice")),
            "is_active": remote.data.get("IsActive") != "false",
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = saved(lambda: product_create(tenant=self.context.tenant, data=self._data(remote)))
        return product_local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = saved(lambda: product_update(product=product, data=self._data(remote)))
        return product_local(product)
