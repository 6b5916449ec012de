"""Products and Fortnox articles both ways: numeric codes only, matched by number and name."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermissionMissing
from integrations.fortnox.client import ARTICLES, UNITS
from integrations.fortnox.sync.context import (
    ARTICLE_FIELDS,
    NUMBER_FIELDS,
    Adapter,
    FortnoxContext,
    _number_text,
    _numeric,
)
from integrations.local import decimal_of as _decimal
from integrations.local import saved as _saved
from integrations.local import text as _text
from records.models import Product, Unit
from records.services.products import product_create, product_update


class ProductAdapter(Adapter):
    entity_type = "product"
    resource = ARTICLES
    match_key_only = False  # the guide: article number = code, and the same name

    def __init__(self, context: FortnoxContext):
        super().__init__(context)
        self._remote_units: set[str] | None = None

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
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id).select_related("unit")
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        # Numbers come back as strings in list items ("25.00") and as numbers elsewhere.
        data = {
            name: _number_text(item.get(name)) if name in NUMBER_FIELDS else _text(item.get(name))
            for name in ARTICLE_FIELDS
        }
        return RemoteRecord(
            id=data["ArticleNumber"], key=data["ArticleNumber"], name=data["Description"], data=data
        )

    def remote_units(self) -> set[str]:
        if self._remote_units is None:
            try:
                self._remote_units = {_text(unit.get("Code")) for unit in self.client.list(UNITS)}
            except PermissionMissing:
                # Units are blocked (their own entity type says why): products with a unit
                # wait for them.
                self._remote_units = set()
        return self._remote_units

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or not _numeric(local.key):
            return _(
                "The product code must be a number: Fortnox article numbers are numeric and "
                "not empty."
            )
        unit = local.data.get("unit")
        if unit and unit not in self.remote_units():
            return _("Fortnox has no unit %(unit)s: add it there, then sync again.") % {
                "unit": unit
            }
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not _numeric(remote.key):
            return _("The article number is not numeric: Severa product codes are numbers.")
        unit = remote.data.get("Unit")
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Description": local.name[:200],
            "Unit": local.data.get("unit") or "",
            "VAT": local.data.get("vat_rate") or Decimal(0),
        }
        if creating:
            payload["ArticleNumber"] = local.key
            payload["Type"] = "SERVICE"
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else self._local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit_code = remote.data.get("Unit")
        data: dict[str, Any] = {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit_code).first()
            if unit_code
            else None,
            "vat_rate": _decimal(remote.data.get("VAT")),
        }
        if remote.data.get("SalesPrice"):
            data["price"] = _decimal(remote.data["SalesPrice"])
        return data

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = _saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = _saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)
