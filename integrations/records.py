"""The tenant's business records that connection settings point at: invoice statuses (the
statuses that send an invoice, mark it received or paid) and products (the default product
of transferred fees).

They live in the `records` app (records.InvoiceStatus, records.Product); this module is the
one place that reads them for the integrations, and answers "none" while that app is not
installed, so a connection cannot be activated against statuses that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from accounts.models import Tenant

T = TypeVar("T")


def _model(name: str) -> type[models.Model] | None:
    try:
        return apps.get_model("records", name)
    except LookupError:
        return None


def invoice_statuses(tenant: Tenant) -> list[tuple[int, str]]:
    """The tenant's active invoice statuses as (id, name), in their list order."""
    model = _model("InvoiceStatus")
    if model is None:
        return []
    rows = model.objects.filter(tenant=tenant, is_active=True).order_by("position", "pk")
    return list(rows.values_list("pk", "name"))


def products(tenant: Tenant) -> list[tuple[int, str]]:
    """The tenant's products as (id, "code name")."""
    model = _model("Product")
    if model is None:
        return []
    rows = model.objects.filter(tenant=tenant).order_by("code", "pk")
    return [
        (pk, f"{code} {name}".strip()) for pk, code, name in rows.values_list("pk", "code", "name")
    ]


def record_saved(write: Callable[[], T]) -> T:
    """A write of a sync through records.services: a refusal of its checks fails this
    record (PermanentError), with the checks' messages as the reason."""
    from integrations.errors import PermanentError

    try:
        return write()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            messages = [
                message if field == NON_FIELD_ERRORS else f"{field}: {message}"
                for field, field_messages in error.message_dict.items()
                for message in field_messages
            ]
        else:
            messages = list(error.messages)
        raise PermanentError("; ".join(messages)) from None
