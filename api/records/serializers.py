"""The tenant's business records in the API (records/models.py). Types and lengths only:
every rule (digits-only product codes, identifiers, uniqueness, records of the same tenant)
is in ``records.services``. A reference to another record is its id, ``<name>_id``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from records.models import (
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
from records.totals import invoice_totals

MAX_ID = 2**63 - 1
READ_ONLY = ("id", "created_at", "updated_at")


def reference(help_text: str, *, required: bool = False) -> serializers.IntegerField:
    """The id of another record of the tenant; null clears an optional one."""
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=required,
        allow_null=not required,
        help_text=help_text,
    )


class RecordSerializer(serializers.ModelSerializer):
    class Meta:
        read_only_fields = READ_ONLY


class BusinessUnitSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = BusinessUnit
        fields = [*READ_ONLY, "name", "code"]


class CostCentreSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = CostCentre
        fields = [*READ_ONLY, "code", "name", "is_active"]


class UnitSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = Unit
        fields = [*READ_ONLY, "code", "name"]


class EmployeeSerializer(RecordSerializer):
    user_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta(RecordSerializer.Meta):
        model = Employee
        fields = [*READ_ONLY, "user_id", "first_name", "last_name", "email", "is_active"]


class ProductSerializer(RecordSerializer):
    code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Digits only (accounting systems match it with a numeric article number), "
        "unique in the tenant; may be blank.",
    )
    unit_id = reference("The unit of measure (/units).")

    class Meta(RecordSerializer.Meta):
        model = Product
        fields = [*READ_ONLY, "kind", "code", "name", "unit_id", "price", "vat_rate", "is_active"]


class CustomerAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerAddress
        fields = ["id", "kind", "street", "postal_code", "city", "country"]
        read_only_fields = ["id"]
        # Checked by records.services, with the country's postal code rules.
        extra_kwargs = {
            "country": {"required": False, "allow_blank": True, "help_text": "ISO 3166 code"},
            "street": {"required": False},
            "postal_code": {"required": False},
            "city": {"required": False},
        }


class CustomerContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerContact
        fields = ["id", "first_name", "last_name", "email", "phone"]
        read_only_fields = ["id"]


class CustomerSerializer(RecordSerializer):
    vat_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Checked for its country (the prefix, else the customer's first invoice "
        "address, else the tenant's country); stored compact with its prefix.",
    )
    organisation_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Business id, checked in FI, SE, NO and DK (the customer's country).",
    )
    addresses = CustomerAddressSerializer(
        many=True,
        required=False,
        help_text="When given, replaces all addresses. Per kind the first one wins.",
    )
    contacts = CustomerContactSerializer(
        many=True, required=False, help_text="When given, replaces all contacts."
    )

    class Meta(RecordSerializer.Meta):
        model = Customer
        fields = [
            *READ_ONLY,
            "number",
            "name",
            "kind",
            "vat_number",
            "organisation_number",
            "email",
            "phone",
            "is_active",
            "addresses",
            "contacts",
        ]


class ProjectSerializer(RecordSerializer):
    customer_id = reference("The customer (/customers).", required=True)

    class Meta(RecordSerializer.Meta):
        model = Project
        fields = [*READ_ONLY, "number", "name", "customer_id", "sales_status"]


class InvoiceStatusSerializer(RecordSerializer):
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    class Meta(RecordSerializer.Meta):
        model = InvoiceStatus
        fields = [*READ_ONLY, "name", "position", "is_active"]


class CustomerInvoiceRowSerializer(serializers.ModelSerializer):
    product_id = reference(
        "The product (/products); fills in a left-out description, unit price and VAT rate."
    )
    business_unit_id = reference("The business unit (/business-units).")
    cost_centre_id = reference("The cost centre (/cost-centres).")
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )
    net = serializers.DecimalField(
        max_digits=24, decimal_places=2, read_only=True, help_text="quantity × unit price"
    )

    class Meta:
        model = CustomerInvoiceRow
        fields = [
            "id",
            "position",
            "product_id",
            "description",
            "quantity",
            "unit_price",
            "vat_rate",
            "business_unit_id",
            "cost_centre_id",
            "net",
        ]
        read_only_fields = ["id", "position", "net"]


class VatBreakdownSerializer(serializers.Serializer):
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    net = serializers.DecimalField(max_digits=24, decimal_places=2)
    vat = serializers.DecimalField(max_digits=24, decimal_places=2)


class InvoiceTotalsSerializer(serializers.Serializer):
    net = serializers.DecimalField(max_digits=24, decimal_places=2)
    vat = serializers.DecimalField(max_digits=24, decimal_places=2)
    total = serializers.DecimalField(max_digits=24, decimal_places=2)
    by_rate = VatBreakdownSerializer(many=True)


class CustomerInvoiceSerializer(RecordSerializer):
    customer_id = reference("The customer (/customers).", required=True)
    project_id = reference("A project of the same customer (/projects).")
    status_id = reference(
        "The status (/invoice-statuses); left out on create, the first active one."
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    rows = CustomerInvoiceRowSerializer(
        many=True, required=False, help_text="When given, replaces all rows, in this order."
    )
    totals = serializers.SerializerMethodField()

    class Meta(RecordSerializer.Meta):
        model = CustomerInvoice
        fields = [
            *READ_ONLY,
            "number",
            "customer_id",
            "project_id",
            "status_id",
            "invoice_date",
            "due_date",
            "currency",
            "reference",
            "notes",
            "rows",
            "totals",
        ]

    @extend_schema_field(InvoiceTotalsSerializer)
    def get_totals(self, invoice: CustomerInvoice) -> dict:
        totals = invoice_totals(
            ((row.quantity, row.unit_price, row.vat_rate) for row in invoice.rows.all()),
            invoice.currency,
        )
        return InvoiceTotalsSerializer(totals).data


class ProjectFeeSerializer(RecordSerializer):
    project_id = reference("The project (/projects).", required=True)
    product_id = reference("The product (/products); names a fee without a description.")

    class Meta(RecordSerializer.Meta):
        model = ProjectFee
        fields = [
            *READ_ONLY,
            "project_id",
            "product_id",
            "description",
            "date",
            "quantity",
            "unit_cost",
            "unit_price",
            "is_billable",
        ]
