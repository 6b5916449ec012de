"""Forms of the business records pages: types and widgets only. Every rule (required
fields, digits-only codes, identifiers, uniqueness) is in ``records.services``, so no field
here is required and the service's message is the one the user reads."""

from __future__ import annotations

from typing import Any

from django import forms
from django_scopes.forms import SafeModelChoiceField

from records.models import (
    AddressKind,
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerInvoice,
    CustomerInvoiceRow,
    Employee,
    InvoiceStatus,
    Product,
    Project,
    ProjectFee,
    Unit,
)
from severa.forms import EMPTY_CHOICE_LABEL, ClearForm, ClearModelForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordForm(ClearModelForm):
    """Scoped choices for every foreign key (built inside the tenant's scope) and no
    required fields."""

    # Field name -> model whose rows (of the tenant in scope) the field offers.
    choices: dict[str, type] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            if name in self.choices:
                field.queryset = self.choices[name].objects.all()

    def _post_clean(self) -> None:
        # The model's own validation (run by ModelForm on an unsaved instance) is replaced
        # by the service's, which knows the tenant.
        pass


def _safe_fields(*names: str) -> dict[str, type]:
    return dict.fromkeys(names, SafeModelChoiceField)


class BusinessUnitForm(RecordForm):
    class Meta:
        model = BusinessUnit
        fields = ["name", "code"]


class CostCentreForm(RecordForm):
    class Meta:
        model = CostCentre
        fields = ["code", "name", "is_active"]


class UnitForm(RecordForm):
    class Meta:
        model = Unit
        fields = ["code", "name"]


class EmployeeForm(RecordForm):
    class Meta:
        model = Employee
        fields = ["first_name", "last_name", "email", "is_active"]


class ProductForm(RecordForm):
    choices = {"unit": Unit}

    class Meta:
        model = Product
        fields = ["kind", "code", "name", "unit", "price", "vat_rate", "is_active"]
        field_classes = _safe_fields("unit")


class CustomerForm(RecordForm):
    class Meta:
        model = Customer
        fields = [
            "number",
            "name",
            "kind",
            "vat_number",
            "organisation_number",
            "email",
            "phone",
            "is_active",
        ]


class CustomerAddressForm(RecordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A blank first choice, so that an untouched extra address row stays empty.
        self.fields["kind"].choices = [("", EMPTY_CHOICE_LABEL), *AddressKind.choices]

    class Meta:
        model = CustomerAddress
        fields = ["kind", "street", "postal_code", "city", "country"]


class CustomerContactForm(RecordForm):
    class Meta:
        model = CustomerContact
        fields = ["first_name", "last_name", "email", "phone"]


class ProjectForm(RecordForm):
    choices = {"customer": Customer}

    class Meta:
        model = Project
        fields = ["number", "name", "customer", "sales_status"]
        field_classes = _safe_fields("customer")


class InvoiceStatusForm(RecordForm):
    class Meta:
        model = InvoiceStatus
        fields = ["name", "position", "is_active"]


class CustomerInvoiceForm(RecordForm):
    choices = {"customer": Customer, "project": Project, "status": InvoiceStatus}

    class Meta:
        model = CustomerInvoice
        fields = [
            "number",
            "customer",
            "project",
            "status",
            "invoice_date",
            "due_date",
            "currency",
            "reference",
            "notes",
        ]
        field_classes = _safe_fields("customer", "project", "status")
        widgets = {
            "invoice_date": DATE_INPUT,
            "due_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class CustomerInvoiceRowForm(RecordForm):
    choices = {"product": Product, "business_unit": BusinessUnit, "cost_centre": CostCentre}

    class Meta:
        model = CustomerInvoiceRow
        fields = [
            "product",
            "description",
            "quantity",
            "unit_price",
            "vat_rate",
            "business_unit",
            "cost_centre",
        ]
        field_classes = _safe_fields("product", "business_unit", "cost_centre")


class ProjectFeeForm(RecordForm):
    choices = {"project": Project, "product": Product}

    class Meta:
        model = ProjectFee
        fields = [
            "project",
            "product",
            "description",
            "date",
            "quantity",
            "unit_cost",
            "unit_price",
            "is_billable",
        ]
        field_classes = _safe_fields("project", "product")
        widgets = {"date": DATE_INPUT}


class AttachmentForm(ClearForm):
    file = forms.FileField()
