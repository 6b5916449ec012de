"""The tenant's business records that connection settings point at: invoice statuses (the
statuses that send an invoice, mark it received or paid) and products (the default product
of transferred fees).

They live in the `records` app (records.InvoiceStatus, records.Product); this module is the
one place that reads them for the integrations, and answers "none" while that app is not
installed, so a connection cannot be activated against statuses that do not exist.
"""

from __future__ import annotations

from typing import TypeVar

from django.apps import apps
from django.db import models

from accounts.models import Tenant

T = TypeVar("T")


def _model(name: str) -> type[models.Model] | None:
    try:
        return apps.get_model("records", name)
    except LookupError:
        return None


def invoice_statuses(*, tenant: Tenant) -> list[tuple[int, str]]:
    """The tenant's active invoice statuses as (id, name), in their list order."""
    model = _model("InvoiceStatus")
    if model is None:
        return []
    rows = model.objects.filter(tenant=tenant, is_active=True).order_by("position", "pk")
    return list(rows.values_list("pk", "name"))


def products(*, tenant: Tenant) -> list[tuple[int, str]]:
    """The tenant's products as (id, "code name")."""
    model = _model("Product")
    if model is None:
        return []
    rows = model.objects.filter(tenant=tenant).order_by("code", "pk")
    return [
        (pk, f"{code} {name}".strip()) for pk, code, name in rows.values_list("pk", "code", "name")
    ]
