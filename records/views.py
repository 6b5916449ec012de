"""Pages of the tenant's business records under /t/<tenant_id>/records/: a list, a create
and an edit page per record type. Everyone of the tenant reads the lists; the managing
roles create and edit. One call into ``records.services`` per write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.forms import BaseFormSet, Form, formset_factory
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.tenancy import MANAGING_ROLES, tenant_view
from records import forms as record_forms
from records import services
from records.models import (
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerInvoice,
    CustomerInvoiceAttachment,
    Employee,
    InvoiceStatus,
    Product,
    Project,
    ProjectFee,
    Unit,
)
from records.totals import invoice_totals

RECORDS_PER_PAGE = 50


@dataclass(frozen=True)
class Nested:
    """Child rows edited on their parent's page (a customer's addresses, an invoice's rows)."""

    key: str  # the service's data key and the formset prefix
    label: Any
    form_class: type[Form]
    related_name: str
    extra: int = 2


@dataclass(frozen=True)
class RecordType:
    slug: str  # URL part and url-name part
    model: type[models.Model]
    form_class: type[Form]
    title: Any  # plural, for the list
    singular: Any
    columns: tuple[tuple[Any, Callable[[Any], Any]], ...]
    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    update_keyword: str
    select_related: tuple[str, ...] = ()
    nested: tuple[Nested, ...] = field(default_factory=tuple)

    @property
    def url_name(self) -> str:
        return self.slug.replace("-", "_")

    @property
    def id_parameter(self) -> str:
        return f"{self.model._meta.model_name}_id"


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


RECORD_TYPES: dict[str, RecordType] = {
    record_type.slug: record_type
    for record_type in (
        RecordType(
            slug="customers",
            model=Customer,
            form_class=record_forms.CustomerForm,
            title=gettext_lazy("Customers"),
            singular=gettext_lazy("customer"),
            columns=(
                (gettext_lazy("Number"), lambda row: row.number),
                (gettext_lazy("Name"), lambda row: row.name),
                (gettext_lazy("Kind"), lambda row: row.get_kind_display()),
                (gettext_lazy("VAT number"), lambda row: row.vat_number),
                (gettext_lazy("Active"), lambda row: _yes_no(row.is_active)),
            ),
            create=services.customer_create,
            update=services.customer_update,
            update_keyword="customer",
            nested=(
                Nested(
                    "addresses",
                    gettext_lazy("Addresses"),
                    record_forms.CustomerAddressForm,
                    "addresses",
                ),
                Nested(
                    "contacts",
                    gettext_lazy("Contacts"),
                    record_forms.CustomerContactForm,
                    "contacts",
                ),
            ),
        ),
        RecordType(
            slug="projects",
            model=Project,
            form_class=record_forms.ProjectForm,
            title=gettext_lazy("Projects"),
            singular=gettext_lazy("project"),
            columns=(
                (gettext_lazy("Number"), lambda row: row.number),
                (gettext_lazy("Name"), lambda row: row.name),
                (gettext_lazy("Customer"), lambda row: row.customer.name),
                (gettext_lazy("Sales status"), lambda row: row.get_sales_status_display()),
            ),
            create=services.project_create,
            update=services.project_update,
            update_keyword="project",
            select_related=("customer",),
        ),
        RecordType(
            slug="customer-invoices",
            model=CustomerInvoice,
            form_class=record_forms.CustomerInvoiceForm,
            title=gettext_lazy("Customer invoices"),
            singular=gettext_lazy("customer invoice"),
            columns=(
                (gettext_lazy("Number"), lambda row: row.number),
                (gettext_lazy("Date"), lambda row: row.invoice_date),
                (gettext_lazy("Customer"), lambda row: row.customer.name),
                (gettext_lazy("Status"), lambda row: row.status.name),
                (gettext_lazy("Currency"), lambda row: row.currency),
            ),
            create=services.customer_invoice_create,
            update=services.customer_invoice_update,
            update_keyword="customer_invoice",
            select_related=("customer", "status"),
            nested=(
                Nested(
                    "rows",
                    gettext_lazy("Rows"),
                    record_forms.CustomerInvoiceRowForm,
                    "rows",
                    extra=3,
                ),
            ),
        ),
        RecordType(
            slug="project-fees",
            model=ProjectFee,
            form_class=record_forms.ProjectFeeForm,
            title=gettext_lazy("Project fees"),
            singular=gettext_lazy("project fee"),
            columns=(
                (gettext_lazy("Date"), lambda row: row.date),
                (gettext_lazy("Project"), lambda row: str(row.project)),
                (gettext_lazy("Description"), lambda row: row.description),
                (gettext_lazy("Quantity"), lambda row: row.quantity),
                (gettext_lazy("Unit cost"), lambda row: row.unit_cost),
                (gettext_lazy("Unit price"), lambda row: row.unit_price),
                (gettext_lazy("Billable"), lambda row: _yes_no(row.is_billable)),
            ),
            create=services.project_fee_create,
            update=services.project_fee_update,
            update_keyword="project_fee",
            select_related=("project",),
        ),
        RecordType(
            slug="products",
            model=Product,
            form_class=record_forms.ProductForm,
            title=gettext_lazy("Products"),
            singular=gettext_lazy("product"),
            columns=(
                (gettext_lazy("Code"), lambda row: row.code),
                (gettext_lazy("Name"), lambda row: row.name),
                (gettext_lazy("Kind"), lambda row: row.get_kind_display()),
                (gettext_lazy("Unit"), lambda row: row.unit.code if row.unit else ""),
                (gettext_lazy("Price"), lambda row: row.price),
                (gettext_lazy("VAT rate %"), lambda row: row.vat_rate),
                (gettext_lazy("Active"), lambda row: _yes_no(row.is_active)),
            ),
            create=services.product_create,
            update=services.product_update,
            update_keyword="product",
            select_related=("unit",),
        ),
        RecordType(
            slug="units",
            model=Unit,
            form_class=record_forms.UnitForm,
            title=gettext_lazy("Units"),
            singular=gettext_lazy("unit"),
            columns=(
                (gettext_lazy("Code"), lambda row: row.code),
                (gettext_lazy("Name"), lambda row: row.name),
            ),
            create=services.unit_create,
            update=services.unit_update,
            update_keyword="unit",
        ),
        RecordType(
            slug="business-units",
            model=BusinessUnit,
            form_class=record_forms.BusinessUnitForm,
            title=gettext_lazy("Business units"),
            singular=gettext_lazy("business unit"),
            columns=(
                (gettext_lazy("Code"), lambda row: row.code),
                (gettext_lazy("Name"), lambda row: row.name),
            ),
            create=services.business_unit_create,
            update=services.business_unit_update,
            update_keyword="business_unit",
        ),
        RecordType(
            slug="cost-centres",
            model=CostCentre,
            form_class=record_forms.CostCentreForm,
            title=gettext_lazy("Cost centres"),
            singular=gettext_lazy("cost centre"),
            columns=(
                (gettext_lazy("Code"), lambda row: row.code),
                (gettext_lazy("Name"), lambda row: row.name),
                (gettext_lazy("Active"), lambda row: _yes_no(row.is_active)),
            ),
            create=services.cost_centre_create,
            update=services.cost_centre_update,
            update_keyword="cost_centre",
        ),
        RecordType(
            slug="employees",
            model=Employee,
            form_class=record_forms.EmployeeForm,
            title=gettext_lazy("Employees"),
            singular=gettext_lazy("employee"),
            columns=(
                (gettext_lazy("First name"), lambda row: row.first_name),
                (gettext_lazy("Last name"), lambda row: row.last_name),
                (gettext_lazy("E-mail"), lambda row: row.email),
                (gettext_lazy("Active"), lambda row: _yes_no(row.is_active)),
            ),
            create=services.employee_create,
            update=services.employee_update,
            update_keyword="employee",
        ),
        RecordType(
            slug="invoice-statuses",
            model=InvoiceStatus,
            form_class=record_forms.InvoiceStatusForm,
            title=gettext_lazy("Invoice statuses"),
            singular=gettext_lazy("invoice status"),
            columns=(
                (gettext_lazy("Position"), lambda row: row.position),
                (gettext_lazy("Name"), lambda row: row.name),
                (gettext_lazy("Active"), lambda row: _yes_no(row.is_active)),
            ),
            create=services.invoice_status_create,
            update=services.invoice_status_update,
            update_keyword="invoice_status",
        ),
    )
}


def _can_edit(request: HttpRequest) -> bool:
    return request.tenant_role in MANAGING_ROLES


@require_safe
@tenant_view()
def records_home_view(request: HttpRequest) -> HttpResponse:
    sections = [
        {
            "title": record_type.title,
            "url": reverse(f"records_{record_type.url_name}", args=[request.tenant.pk]),
            "count": record_type.model.objects.count(),
        }
        for record_type in RECORD_TYPES.values()
    ]
    return render(request, "records/home.html", {"sections": sections})


def _list_view(record_type: RecordType) -> Callable[..., HttpResponse]:
    @require_safe
    @tenant_view()
    def view(request: HttpRequest) -> HttpResponse:
        page = Paginator(
            record_type.model.objects.select_related(*record_type.select_related),
            RECORDS_PER_PAGE,
        ).get_page(request.GET.get("page"))
        can_edit = _can_edit(request)
        rows = [
            {
                "url": reverse(
                    f"records_{record_type.url_name}_edit", args=[request.tenant.pk, record.pk]
                )
                if can_edit
                else "",
                "cells": [value(record) for _label, value in record_type.columns],
            }
            for record in page
        ]
        return render(
            request,
            "records/list.html",
            {
                "record_type": record_type,
                "headers": [label for label, _value in record_type.columns],
                "rows": rows,
                "page": page,
                "can_edit": can_edit,
                "create_url": reverse(
                    f"records_{record_type.url_name}_create", args=[request.tenant.pk]
                ),
            },
        )

    view.__name__ = f"{record_type.slug.replace('-', '_')}_list_view"
    return view


def _formsets(
    record_type: RecordType, data: Any = None, instance: models.Model | None = None
) -> list[tuple[Nested, BaseFormSet]]:
    formsets = []
    for nested in record_type.nested:
        formset_class = formset_factory(nested.form_class, extra=nested.extra, can_delete=True)
        initial = None
        if instance is not None:
            initial = [
                model_to_dict(child, fields=list(nested.form_class._meta.fields))
                for child in getattr(instance, nested.related_name).all()
            ]
        formsets.append((nested, formset_class(data, prefix=nested.key, initial=initial)))
    return formsets


def _nested_data(
    formsets: list[tuple[Nested, BaseFormSet]],
) -> tuple[dict[str, list[dict]], dict[str, list[int]]]:
    """Per key the filled, not deleted forms' data, and their form numbers (for messages)."""
    data: dict[str, list[dict]] = {}
    numbers: dict[str, list[int]] = {}
    for nested, formset in formsets:
        data[nested.key], numbers[nested.key] = [], []
        for number, form in enumerate(formset.forms, start=1):
            cleaned = dict(getattr(form, "cleaned_data", None) or {})
            if cleaned.pop("DELETE", False):
                continue
            # A row with nothing filled in is an unused extra row, not a row to refuse.
            if all(value in (None, "") for value in cleaned.values()):
                continue
            data[nested.key].append(cleaned)
            numbers[nested.key].append(number)
    return data, numbers


def _show_errors(
    form: Form,
    error: ValidationError,
    record_type: RecordType,
    numbers: dict[str, list[int]],
) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    labels = {nested.key: nested.label for nested in record_type.nested}
    for name, field_messages in error.message_dict.items():
        if name in form.fields:
            form.add_error(name, field_messages)
            continue
        # "rows[0].quantity": the first filled row, shown with its row number on the page.
        key, _sep, rest = name.partition("[")
        if key in labels and "]" in rest:
            index_text, _sep, child_field = rest.partition("].")
            index = int(index_text) if index_text.isdigit() else 0
            number = numbers.get(key, [])[index] if index < len(numbers.get(key, [])) else index + 1
            prefix = f"{labels[key]} {number}, {child_field.replace('_', ' ')}"
        else:
            prefix = name.replace("_", " ")
        form.add_error(None, [f"{prefix}: {message}" for message in field_messages])


def _form_view(record_type: RecordType, *, is_create: bool) -> Callable[..., HttpResponse]:
    @tenant_view(*MANAGING_ROLES)
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        instance = None
        if not is_create:
            instance = get_object_or_404(
                record_type.model.objects.select_related(*record_type.select_related),
                pk=kwargs[record_type.id_parameter],
            )
        if request.method == "POST":
            form = record_type.form_class(request.POST)
            formsets = _formsets(record_type, request.POST, instance)
            valid = form.is_valid() & all(formset.is_valid() for _n, formset in formsets)
            if valid:
                nested_data, numbers = _nested_data(formsets)
                data = {**form.cleaned_data, **nested_data}
                try:
                    if instance is None:
                        record = record_type.create(
                            tenant=request.tenant, data=data, actor=request.user
                        )
                    else:
                        record = record_type.update(
                            **{record_type.update_keyword: instance},
                            data=data,
                            actor=request.user,
                        )
                except ValidationError as error:
                    _show_errors(form, error, record_type, numbers)
                else:
                    messages.success(request, _("%(record)s is saved.") % {"record": record})
                    return redirect(
                        f"records_{record_type.url_name}_edit", request.tenant.pk, record.pk
                    )
        elif request.method in ("GET", "HEAD"):
            initial = (
                model_to_dict(instance, fields=list(record_type.form_class._meta.fields))
                if instance is not None
                else None
            )
            form = record_type.form_class(initial=initial)
            formsets = _formsets(record_type, None, instance)
        else:
            return HttpResponse(status=405)
        context = {
            "record_type": record_type,
            "record": instance,
            "form": form,
            "formsets": formsets,
            "list_url": reverse(f"records_{record_type.url_name}", args=[request.tenant.pk]),
        }
        if isinstance(instance, CustomerInvoice):
            context.update(_invoice_context(instance))
        return render(request, "records/form.html", context)

    kind = "create" if is_create else "edit"
    view.__name__ = f"{record_type.slug.replace('-', '_')}_{kind}_view"
    return view


def _invoice_context(invoice: CustomerInvoice) -> dict[str, Any]:
    rows = list(invoice.rows.all())
    return {
        "invoice_rows": rows,
        "totals": invoice_totals(
            ((row.quantity, row.unit_price, row.vat_rate) for row in rows), invoice.currency
        ),
        "attachments": list(invoice.attachments.defer("content")),
        "attachment_form": record_forms.AttachmentForm(),
    }


@require_POST
@tenant_view(*MANAGING_ROLES)
def customer_invoice_attachment_add_view(
    request: HttpRequest, customerinvoice_id: int
) -> HttpResponse:
    invoice = get_object_or_404(CustomerInvoice, pk=customerinvoice_id)
    form = record_forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.customer_invoice_attachment_add(
                customer_invoice=invoice,
                file_name=upload.name,
                content_type=upload.content_type or "",
                content=upload.read(services.MAX_ATTACHMENT_BYTES + 1),
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The file is attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect("records_customer_invoices_edit", request.tenant.pk, invoice.pk)


@require_safe
@tenant_view()
def customer_invoice_attachment_view(
    request: HttpRequest, customerinvoice_id: int, customerinvoiceattachment_id: int
) -> HttpResponse:
    attachment = get_object_or_404(
        CustomerInvoiceAttachment, pk=customerinvoiceattachment_id, invoice_id=customerinvoice_id
    )
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    # Always a download: an uploaded HTML file must not render on our origin.
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quoted(
        attachment.file_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@require_POST
@tenant_view(*MANAGING_ROLES)
def employees_from_users_view(request: HttpRequest) -> HttpResponse:
    created = services.employee_sync_from_members(tenant=request.tenant)
    messages.success(
        request,
        _("Employees are up to date with the users; %(count)d new.") % {"count": created},
    )
    return redirect("records_employees", request.tenant.pk)


LIST_VIEWS = {slug: _list_view(record_type) for slug, record_type in RECORD_TYPES.items()}
CREATE_VIEWS = {
    slug: _form_view(record_type, is_create=True) for slug, record_type in RECORD_TYPES.items()
}
EDIT_VIEWS = {
    slug: _form_view(record_type, is_create=False) for slug, record_type in RECORD_TYPES.items()
}
