"""The Severa side of a sync, shared by the connectors: the tenant's records as the engine
compares them (`LocalRecord`), and writes through `records.services` whose refusals fail one
record with their messages as the reason.

A connector maps `LocalRecord.data` to its own fields; the keys here are Severa's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Max

from integrations.adapters import LocalRecord
from integrations.errors import PermanentError
from records.models import (
    Customer,
    CustomerAddress,
    CustomerInvoice,
    InvoiceStatus,
    Product,
    Project,
)
from records.services.invoices import customer_invoice_update


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def decimal_of(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    return Decimal(str(value))


def saved(write: Callable[[], Any]) -> Any:
    """A write through records.services: a refusal of its checks fails this record, with
    the checks' messages as the reason."""
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


# ---------------------------------------------------------------------------- products
def product_local(product: Product) -> LocalRecord:
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
            "kind": product.kind,
        },
    )


def products_changed_since(tenant_id: int, since: datetime.datetime | None) -> list[LocalRecord]:
    products = Product.objects.filter(tenant_id=tenant_id).select_related("unit")
    if since is not None:
        products = products.filter(updated_at__gt=since)
    return [product_local(product) for product in products.order_by("pk")]


# ---------------------------------------------------------------------------- customers
def first_address_by_kind(addresses: Iterable[CustomerAddress]) -> dict[str, CustomerAddress]:
    first: dict[str, CustomerAddress] = {}
    for address in sorted(addresses, key=lambda a: a.pk):
        first.setdefault(address.kind, address)
    return first


def customers_of(tenant_id: int):
    return Customer.objects.filter(tenant_id=tenant_id).prefetch_related("addresses", "contacts")


def customer_local(customer: Customer) -> LocalRecord:
    """A customer with its first address of each kind (street, postal code, city, country)
    and its first contact; changed when any of them changed."""
    addresses = list(customer.addresses.all())
    contacts = list(customer.contacts.all())
    updated_at = max(
        [customer.updated_at]
        + [address.updated_at for address in addresses]
        + [contact.updated_at for contact in contacts]
    )
    contact = min(contacts, key=lambda c: c.pk) if contacts else None
    return LocalRecord(
        id=customer.pk,
        key=customer.number,
        name=customer.name,
        updated_at=updated_at,
        data={
            "kind": customer.kind,
            "vat_number": customer.vat_number,
            "organisation_number": customer.organisation_number,
            "email": customer.email or (contact.email if contact else ""),
            "phone": customer.phone or (contact.phone if contact else ""),
            "contact": str(contact) if contact else "",
            "is_active": customer.is_active,
            "addresses": {
                kind: (address.street, address.postal_code, address.city, address.country)
                for kind, address in first_address_by_kind(addresses).items()
            },
        },
    )


def customers_changed_since(tenant_id: int, since: datetime.datetime | None) -> list[LocalRecord]:
    customers = customers_of(tenant_id)
    if since is not None:
        changed = (
            customers.annotate(
                address_at=Max("addresses__updated_at"), contact_at=Max("contacts__updated_at")
            )
            .values_list("pk", "updated_at", "address_at", "contact_at")
            .order_by()
        )
        ids = [
            pk
            for pk, *moments in changed
            if any(moment is not None and moment > since for moment in moments)
        ]
        customers = customers.filter(pk__in=ids)
    return [customer_local(customer) for customer in customers.order_by("pk")]


# ---------------------------------------------------------------------------- projects
def projects_changed_since(
    tenant_id: int, since: datetime.datetime | None, *, data: Callable[[Project], dict]
) -> list[LocalRecord]:
    projects = Project.objects.filter(tenant_id=tenant_id).select_related("customer")
    if since is not None:
        projects = projects.filter(updated_at__gt=since)
    return [
        LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data=data(project),
        )
        for project in projects.order_by("pk")
    ]


# ---------------------------------------------------------------------------- invoices
def invoice_local(invoice: CustomerInvoice) -> LocalRecord:
    rows = list(invoice.rows.all())
    return LocalRecord(
        id=invoice.pk,
        key=invoice.number or f"#{invoice.pk}",
        name=invoice.customer.name,
        updated_at=max([invoice.updated_at] + [row.updated_at for row in rows]),
        data={
            "customer_id": invoice.customer_id,
            "customer": str(invoice.customer),
            "project_id": invoice.project_id,
            "invoice_date": invoice.invoice_date,
            "due_date": invoice.due_date,
            "currency": invoice.currency,
            "reference": invoice.reference,
            "notes": invoice.notes,
            "rows": [
                {
                    "product_id": row.product_id,
                    "description": row.description,
                    "quantity": row.quantity,
                    "unit_price": row.unit_price,
                    "vat_rate": row.vat_rate,
                    "business_unit_id": row.business_unit_id,
                    "cost_centre_id": row.cost_centre_id,
                }
                for row in rows
            ],
        },
    )


def invoices_in_status(tenant_id: int, status_id: int | None) -> list[LocalRecord]:
    """Every invoice waiting in the sending status, whenever it got there."""
    if status_id is None:
        return []
    invoices = (
        CustomerInvoice.objects.filter(tenant_id=tenant_id, status_id=status_id)
        .select_related("customer")
        .prefetch_related("rows")
        .order_by("pk")
    )
    return [invoice_local(invoice) for invoice in invoices]


def invoice_status_name(status_id: int) -> str:
    return InvoiceStatus.objects.filter(pk=status_id).values_list("name", flat=True).first() or ""


def invoice_status_move(invoice: CustomerInvoice, status_id: int) -> None:
    """Move `invoice` to the status through records.services (PermanentError when its
    checks refuse)."""
    status = InvoiceStatus.objects.filter(tenant_id=invoice.tenant_id, pk=status_id).first()
    saved(lambda: customer_invoice_update(customer_invoice=invoice, data={"status": status}))
