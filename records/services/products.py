"""Products: work types, travel and products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from records.models import (
    Product,
    ProductKind,
    Unit,
)
from records.services.checks import (
    Checker,
    Data,
    record_save,
    tenant_of,
)
from severa.identifiers.errors import is_digits

# Products --------------------------------------------------------------------------------


def _product_values(check: Checker) -> dict[str, Any]:
    kind = check.choice("kind", ProductKind, ProductKind.PRODUCT)
    code = check.text(Product, "code")
    if code and not is_digits(code):
        # Accounting systems match products by a numeric article number (Fortnox refuses
        # others), so a code is digits only.
        check.add("code", _("A product code is digits only, e.g. 1001."))
    name = check.text(Product, "name", required=_("Give the product a name."))
    unit = check.owned("unit", Unit)
    price = check.decimal(Product, "price", default=Decimal(0), minimum=Decimal(0))
    vat_rate = check.decimal(
        Product, "vat_rate", default=Decimal(0), minimum=Decimal(0), maximum=Decimal(100)
    )
    is_active = check.boolean("is_active", True)
    check.unique(Product, "code", code, _("Another product has the code %(value)s."))
    check.done()
    return {
        "kind": kind,
        "code": code,
        "name": name,
        "unit": unit,
        "price": price if price is not None else Decimal(0),
        "vat_rate": vat_rate if vat_rate is not None else Decimal(0),
        "is_active": is_active,
    }


@transaction.atomic
def product_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> Product:
    with tenant_scope(tenant):
        values = _product_values(Checker(tenant, None, data))
        return record_save(
            Product,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["name"],
        )


@transaction.atomic
def product_update(*, product: Product, data: Data, actor: User | None = None) -> Product:
    tenant = tenant_of(product)
    with tenant_scope(tenant):
        values = _product_values(Checker(tenant, product, data))
        return record_save(
            Product,
            tenant=tenant,
            instance=product,
            values=values,
            actor=actor,
            label=values["name"],
        )
