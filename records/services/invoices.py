"""The tenant's invoice status list, customer invoices with their rows, and attachments."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.audit import AuditAction, audit_record
from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from records.models import (
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerInvoice,
    CustomerInvoiceAttachment,
    CustomerInvoiceRow,
    InvoiceStatus,
    Product,
    Project,
)
from records.services.checks import (
    Checker,
    Data,
    nested_errors,
    record_save,
    tenant_of,
)
from severa import clock
from severa.money import CURRENCIES

# A new tenant's invoice statuses, in workflow order.
DEFAULT_INVOICE_STATUSES = (
    gettext_noop("Draft"),
    gettext_noop("Ready to send"),
    gettext_noop("Sent"),
    gettext_noop("Paid"),
)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Invoice statuses ------------------------------------------------------------------------


def invoice_statuses_default(*, tenant: Tenant) -> list[InvoiceStatus]:
    """Give a new company its invoice statuses (Draft, Ready to send, Sent, Paid) in its
    language; a company that has statuses keeps them. Registered with
    ``accounts.hooks.tenant_created``; migration 0003 gave them to the companies before."""
    with tenant_scope(tenant):
        if InvoiceStatus.objects.filter(tenant=tenant).exists():
            return list(InvoiceStatus.objects.filter(tenant=tenant))
        with translation.override(tenant.language or "en"):
            names = [_(name) for name in DEFAULT_INVOICE_STATUSES]
        return [
            InvoiceStatus.objects.create(tenant=tenant, name=name, position=(index + 1) * 10)
            for index, name in enumerate(names)
        ]


def _invoice_status_values(check: Checker) -> dict[str, Any]:
    name = check.text(InvoiceStatus, "name", required=_("Give the status a name."))
    position = check.raw("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        check.add("position", _("The position is a whole number, zero or more."))
    is_active = check.boolean("is_active", True)
    check.unique(InvoiceStatus, "name", name, _("Another status is called %(value)s."))
    check.done()
    return {"name": name, "position": position, "is_active": is_active}


@transaction.atomic
def invoice_status_create(
    *, tenant: Tenant, data: Data, actor: User | None = None
) -> InvoiceStatus:
    with tenant_scope(tenant):
        values = _invoice_status_values(Checker(tenant, None, data))
        return record_save(
            InvoiceStatus,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["name"],
        )


@transaction.atomic
def invoice_status_update(
    *, invoice_status: InvoiceStatus, data: Data, actor: User | None = None
) -> InvoiceStatus:
    tenant = tenant_of(invoice_status)
    with tenant_scope(tenant):
        values = _invoice_status_values(Checker(tenant, invoice_status, data))
        return record_save(
            InvoiceStatus,
            tenant=tenant,
            instance=invoice_status,
            values=values,
            actor=actor,
            label=values["name"],
        )


# Customer invoices -----------------------------------------------------------------------


def _invoice_row_values(check: Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = Checker(check.tenant, None, data)
    product = row.owned("product", Product)
    # A product fills in what the row leaves out: its name, price and VAT rate.
    defaults = (
        {}
        if product is None
        else {
            "description": product.name,
            "unit_price": product.price,
            "vat_rate": product.vat_rate,
        }
    )
    for name, value in defaults.items():
        if row.data.get(name) in (None, ""):
            row.data = {**row.data, name: value}
    description = row.text(CustomerInvoiceRow, "description")
    if not description and "product" not in row.errors:
        row.add("description", _("Give a description or choose a product."))
    quantity = row.decimal(CustomerInvoiceRow, "quantity", required=_("Give a quantity."))
    unit_price = row.decimal(CustomerInvoiceRow, "unit_price", required=_("Give a unit price."))
    vat_rate = row.decimal(
        CustomerInvoiceRow,
        "vat_rate",
        default=Decimal(0),
        minimum=Decimal(0),
        maximum=Decimal(100),
    )
    values = {
        "position": index + 1,
        "product": product,
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "vat_rate": vat_rate if vat_rate is not None else Decimal(0),
        "business_unit": row.owned("business_unit", BusinessUnit),
        "cost_centre": row.owned("cost_centre", CostCentre),
    }
    nested_errors(check, "rows", index, row.errors)
    return values


def _invoice_values(check: Checker) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    number = check.text(CustomerInvoice, "number")
    customer = check.owned("customer", Customer, required=_("Choose the customer."))
    project = check.owned("project", Project)
    if project is not None and customer is not None and project.customer_id != customer.pk:
        check.add("project", _("The project belongs to another customer."))
    if check.raw("status") is None:
        # An invoice starts in the first active status of the tenant's list.
        first = InvoiceStatus.objects.filter(tenant=check.tenant, is_active=True).first()
        check.data = {**check.data, "status": first}
    status = check.owned("status", InvoiceStatus, required=_("Choose the status."))
    invoice_date = check.day("invoice_date", required=_("Give the invoice date."))
    due_date = check.day("due_date")
    if invoice_date and due_date and due_date < invoice_date:
        check.add("due_date", _("The due date is on or after the invoice date."))
    currency = check.text(CustomerInvoice, "currency").upper() or "EUR"
    if currency not in CURRENCIES:
        check.add(
            "currency",
            _("Choose one of the currencies %(currencies)s.")
            % {"currencies": ", ".join(sorted(CURRENCIES))},
        )
    reference = check.text(CustomerInvoice, "reference")
    notes = check.text(CustomerInvoice, "notes", multiline=True)
    rows = None
    if check.data.get("rows") is not None:
        rows = [
            _invoice_row_values(check, index, row) for index, row in enumerate(check.data["rows"])
        ]
    check.unique(CustomerInvoice, "number", number, _("Another invoice has the number %(value)s."))
    check.done()
    values = {
        "number": number,
        "customer": customer,
        "project": project,
        "status": status,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "currency": currency,
        "reference": reference,
        "notes": notes,
    }
    return values, rows


def _invoice_rows_replace(invoice: CustomerInvoice, rows: list[dict[str, Any]] | None) -> None:
    if rows is None:
        return
    CustomerInvoiceRow.objects.filter(invoice=invoice).delete()
    CustomerInvoiceRow.objects.bulk_create(
        CustomerInvoiceRow(tenant_id=invoice.tenant_id, invoice=invoice, **row) for row in rows
    )
    CustomerInvoice.objects.filter(pk=invoice.pk).update(updated_at=clock.now())


@transaction.atomic
def customer_invoice_create(
    *, tenant: Tenant, data: Data, actor: User | None = None
) -> CustomerInvoice:
    """An invoice; ``data`` may carry ``rows`` (a list of dicts). Without a status it starts
    in the first active one of the tenant's list."""
    with tenant_scope(tenant):
        values, rows = _invoice_values(Checker(tenant, None, data))
        invoice = record_save(
            CustomerInvoice,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["number"],
        )
        _invoice_rows_replace(invoice, rows)
        return invoice


@transaction.atomic
def customer_invoice_update(
    *, customer_invoice: CustomerInvoice, data: Data, actor: User | None = None
) -> CustomerInvoice:
    """Update an invoice; ``rows``, when given, replace all its rows."""
    tenant = tenant_of(customer_invoice)
    with tenant_scope(tenant):
        values, rows = _invoice_values(Checker(tenant, customer_invoice, data))
        invoice = record_save(
            CustomerInvoice,
            tenant=tenant,
            instance=customer_invoice,
            values=values,
            actor=actor,
            label=values["number"],
        )
        _invoice_rows_replace(invoice, rows)
        return invoice


@transaction.atomic
def customer_invoice_attachment_add(
    *,
    customer_invoice: CustomerInvoice,
    file_name: str,
    content_type: str,
    content: bytes,
    actor: User | None = None,
) -> CustomerInvoiceAttachment:
    """Attach a file (at most 10 MB) to an invoice."""
    tenant = tenant_of(customer_invoice)
    data = {"file_name": file_name, "content_type": content_type or "application/octet-stream"}
    with tenant_scope(tenant):
        check = Checker(tenant, None, data)
        name = check.text(
            CustomerInvoiceAttachment, "file_name", required=_("Give the file a name.")
        )
        kind = check.text(CustomerInvoiceAttachment, "content_type")
        if not content:
            check.add("content", _("The file is empty."))
        elif len(content) > MAX_ATTACHMENT_BYTES:
            check.add("content", _("A file is at most 10 MB."))
        check.done()
        attachment = CustomerInvoiceAttachment.objects.create(
            tenant=tenant,
            invoice=customer_invoice,
            file_name=name,
            content_type=kind,
            content=bytes(content),
            uploaded_at=clock.now(),
        )
        CustomerInvoice.objects.filter(pk=customer_invoice.pk).update(updated_at=clock.now())
        if actor is not None:
            audit_record(
                actor=actor,
                action=AuditAction.CUSTOMER_INVOICE_ATTACHMENT_CREATED,
                tenant=tenant,
                details={"record": name, "record_id": attachment.pk},
            )
        return attachment
