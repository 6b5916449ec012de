"""The tenant's business records under /api/v1/tenants/{tenant_id}/ (records/models.py):
customers (with addresses and contacts), products, projects, customer invoices (with rows),
project fees, business units, cost centres, units and invoice statuses.

Everyone of the tenant reads; the tenant's admins, its partners and operators create and
update (like the pages). Lists are paginated (``?limit=&offset=``), oldest first by default.
A reference to another record is its id (``customer_id``); an id the tenant does not have
is a 400 on that field, never a 404 that would tell it exists elsewhere. Every write is one
call into ``records.services``, whose refusals are 400s with a message per field and save
nothing. Creating an invoice accepts an ``Idempotency-Key``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from api.idempotency import idempotent
from api.records import serializers
from api.records.generic import RecordAPIMixin, RecordDetailView, RecordListView, documented
from api.schema import TENANT_ERRORS, TENANT_PARAMETER
from records import services
from records.models import (
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerInvoice,
    Employee,
    InvoiceStatus,
    Product,
    Project,
    ProjectFee,
    Unit,
)

# Customers -------------------------------------------------------------------------------


class CustomerViewMixin:
    model = Customer
    serializer_class = serializers.CustomerSerializer
    prefetch_related = ("addresses", "contacts")


@documented(serializers.CustomerSerializer, "customers", "customer")
class CustomerListView(CustomerViewMixin, RecordListView):
    def create_record(self, data):
        return services.customer_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.CustomerSerializer, "customers", "customer", "customer_id")
class CustomerDetailView(CustomerViewMixin, RecordDetailView):
    lookup_url_kwarg = "customer_id"

    def update_record(self, record, data):
        return services.customer_update(customer=record, data=data, actor=self.request.user)


# Products --------------------------------------------------------------------------------


class ProductViewMixin:
    model = Product
    serializer_class = serializers.ProductSerializer
    references = {"unit": Unit}


@documented(serializers.ProductSerializer, "products", "product")
class ProductListView(ProductViewMixin, RecordListView):
    def create_record(self, data):
        return services.product_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.ProductSerializer, "products", "product", "product_id")
class ProductDetailView(ProductViewMixin, RecordDetailView):
    lookup_url_kwarg = "product_id"

    def update_record(self, record, data):
        return services.product_update(product=record, data=data, actor=self.request.user)


# Projects --------------------------------------------------------------------------------


class ProjectViewMixin:
    model = Project
    serializer_class = serializers.ProjectSerializer
    references = {"customer": Customer}


@documented(serializers.ProjectSerializer, "projects", "project")
class ProjectListView(ProjectViewMixin, RecordListView):
    def create_record(self, data):
        return services.project_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.ProjectSerializer, "projects", "project", "project_id")
class ProjectDetailView(ProjectViewMixin, RecordDetailView):
    lookup_url_kwarg = "project_id"

    def update_record(self, record, data):
        return services.project_update(project=record, data=data, actor=self.request.user)


# Customer invoices -----------------------------------------------------------------------


class CustomerInvoiceViewMixin:
    model = CustomerInvoice
    serializer_class = serializers.CustomerInvoiceSerializer
    references = {"customer": Customer, "project": Project, "status": InvoiceStatus}
    nested_references = {
        "rows": {"product": Product, "business_unit": BusinessUnit, "cost_centre": CostCentre}
    }
    prefetch_related = ("rows",)


@documented(serializers.CustomerInvoiceSerializer, "customer invoices", "customer invoice")
class CustomerInvoiceListView(CustomerInvoiceViewMixin, RecordListView):
    def create_record(self, data):
        return services.customer_invoice_create(
            tenant=self.tenant, data=data, actor=self.request.user
        )

    @idempotent()
    def post(self, request, tenant_id):
        return super().post(request, tenant_id)


@documented(
    serializers.CustomerInvoiceSerializer,
    "customer invoices",
    "customer invoice",
    "customerinvoice_id",
)
class CustomerInvoiceDetailView(CustomerInvoiceViewMixin, RecordDetailView):
    lookup_url_kwarg = "customerinvoice_id"

    def update_record(self, record, data):
        return services.customer_invoice_update(
            customer_invoice=record, data=data, actor=self.request.user
        )


# Project fees ----------------------------------------------------------------------------


class ProjectFeeViewMixin:
    model = ProjectFee
    serializer_class = serializers.ProjectFeeSerializer
    references = {"project": Project, "product": Product}


@documented(serializers.ProjectFeeSerializer, "project fees", "project fee")
class ProjectFeeListView(ProjectFeeViewMixin, RecordListView):
    def create_record(self, data):
        return services.project_fee_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.ProjectFeeSerializer, "project fees", "project fee", "projectfee_id")
class ProjectFeeDetailView(ProjectFeeViewMixin, RecordDetailView):
    lookup_url_kwarg = "projectfee_id"

    def update_record(self, record, data):
        return services.project_fee_update(project_fee=record, data=data, actor=self.request.user)


# Business units, cost centres, units, invoice statuses, employees ------------------------


class BusinessUnitViewMixin:
    model = BusinessUnit
    serializer_class = serializers.BusinessUnitSerializer


@documented(serializers.BusinessUnitSerializer, "business units", "business unit")
class BusinessUnitListView(BusinessUnitViewMixin, RecordListView):
    def create_record(self, data):
        return services.business_unit_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(
    serializers.BusinessUnitSerializer, "business units", "business unit", "businessunit_id"
)
class BusinessUnitDetailView(BusinessUnitViewMixin, RecordDetailView):
    lookup_url_kwarg = "businessunit_id"

    def update_record(self, record, data):
        return services.business_unit_update(
            business_unit=record, data=data, actor=self.request.user
        )


class CostCentreViewMixin:
    model = CostCentre
    serializer_class = serializers.CostCentreSerializer


@documented(serializers.CostCentreSerializer, "cost centres", "cost centre")
class CostCentreListView(CostCentreViewMixin, RecordListView):
    def create_record(self, data):
        return services.cost_centre_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.CostCentreSerializer, "cost centres", "cost centre", "costcentre_id")
class CostCentreDetailView(CostCentreViewMixin, RecordDetailView):
    lookup_url_kwarg = "costcentre_id"

    def update_record(self, record, data):
        return services.cost_centre_update(cost_centre=record, data=data, actor=self.request.user)


class UnitViewMixin:
    model = Unit
    serializer_class = serializers.UnitSerializer


@documented(serializers.UnitSerializer, "units of measure", "unit")
class UnitListView(UnitViewMixin, RecordListView):
    def create_record(self, data):
        return services.unit_create(tenant=self.tenant, data=data, actor=self.request.user)


@documented(serializers.UnitSerializer, "units of measure", "unit", "unit_id")
class UnitDetailView(UnitViewMixin, RecordDetailView):
    lookup_url_kwarg = "unit_id"

    def update_record(self, record, data):
        return services.unit_update(unit=record, data=data, actor=self.request.user)


class InvoiceStatusViewMixin:
    model = InvoiceStatus
    serializer_class = serializers.InvoiceStatusSerializer

    def get_queryset(self):
        return InvoiceStatus.objects.order_by("position", "pk")


@documented(serializers.InvoiceStatusSerializer, "invoice statuses, in order", "invoice status")
class InvoiceStatusListView(InvoiceStatusViewMixin, RecordListView):
    def create_record(self, data):
        return services.invoice_status_create(
            tenant=self.tenant, data=data, actor=self.request.user
        )


@documented(
    serializers.InvoiceStatusSerializer,
    "invoice statuses",
    "invoice status",
    "invoicestatus_id",
)
class InvoiceStatusDetailView(InvoiceStatusViewMixin, RecordDetailView):
    lookup_url_kwarg = "invoicestatus_id"

    def update_record(self, record, data):
        return services.invoice_status_update(
            invoice_status=record, data=data, actor=self.request.user
        )


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: serializers.EmployeeSerializer(many=True), **TENANT_ERRORS},
        summary="The employees: one per user of the tenant, kept in step with the users",
    )
)
class EmployeeListView(RecordAPIMixin, generics.ListAPIView):
    model = Employee
    serializer_class = serializers.EmployeeSerializer
