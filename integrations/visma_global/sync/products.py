"""Products and Visma Global articles."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import (
    ARTICLE_TYPES,
    PRODUCT_KINDS,
    Adapter,
    _decimal,
    _text,
)
from records.models import Product, ProductKind
from records.services.products import product_create, product_update


class ArticleAdapter(Adapter):
    entity_type = "product"
    register = "article"
    key_field = "ArticleNo"
    fields = ("Name", "ArticleType", "Price", "VatRate", "Active")

    def _local(self, product: Product) -> LocalRecord:
        return LocalRecord(
            id=product.pk,
            key=product.code,
            name=product.name,
            updated_at=product.updated_at,
            data={
                "kind": product.kind,
                "price": str(product.price),
                "vat_rate": str(product.vat_rate),
                "is_active": product.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        payload = {
            "Name": local.name[:80],
            "ArticleType": ARTICLE_TYPES.get(data["kind"], "Product"),
            "Price": data["price"],
            "VatRate": data["vat_rate"],
            "Active": bool(data["is_active"]),
        }
        if creating:
            payload["ArticleNo"] = local.key
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _(
                "Severa's product codes are digits only: article %(number)s stays in Visma Global."
            ) % {"number": remote.key}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = Product.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return self._local(product) if product else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        return {
            "code": remote.key,
            "name": remote.name,
            "kind": PRODUCT_KINDS.get(_text(data.get("ArticleType")), ProductKind.PRODUCT),
            "price": _decimal(data.get("Price")),
            "vat_rate": _decimal(data.get("VatRate")),
            "is_active": data.get("Active") is not False,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = local_saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = local_saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)
