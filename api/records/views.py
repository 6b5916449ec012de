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

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from accounts.tenancy import MANAGING_ROLES, TenantScopedAPIMixin
from api.idempotency import idempotent
from api.records import serializers
from api.schema import IDEMPOTENCY_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER, errors
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

WRITE_ERRORS = errors(400, 401, 403, 404, 409, 415, 422)


def resolve_references(
    data: dict[str, Any], references: dict[str, type[models.Model]], *, prefix: str = ""
) -> dict[str, Any]:
    """``{"customer_id": 5}`` -> ``{"customer": <Customer 5>}``, looked up in the tenant's
    scope; an id the tenant does not have is a ValidationError on that field."""
    resolved = dict(data)
    for name, model in references.items():
        key = f"{name}_id"
        if key not in resolved:
            continue
        value = resolved.pop(key)
        if value is None:
            resolved[name] = None
            continue
        record = model.objects.filter(pk=value).first()
        if record is None:
            raise ValidationError({f"{prefix}{key}": f"No such {model._meta.verbose_name}."})
        resolved[name] = record
    return resolved


class RecordAPIMixin(TenantScopedAPIMixin):
    """Reads for every role of the tenant, writes for the managing roles."""

    model: type[models.Model]
    references: dict[str, type[models.Model]] = {}
    # Nested list key -> references of each of its items.
    nested_references: dict[str, dict[str, type[models.Model]]] = {}
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        return (
            self.model.objects.select_related(*self.select_related)
            .prefetch_related(*self.prefetch_related)
            .order_by("pk")
        )

    def check_writable(self) -> None:
        if self.tenant_role not in MANAGING_ROLES:
            raise PermissionDenied

    def service_data(self, validated: dict[str, Any]) -> dict[str, Any]:
        data = resolve_references(validated, self.references)
        for key, references in self.nested_references.items():
            if data.get(key) is not None:
                data[key] = [
                    resolve_references(dict(item), references, prefix=f"{key}[{index}].")
                    for index, item in enumerate(data[key])
                ]
        return data

    def respond(self, record: models.Model, code: int = status.HTTP_200_OK) -> Response:
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data, status=code)


class RecordListView(RecordAPIMixin, generics.ListAPIView):
    def create_record(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def post(self, request, tenant_id):
        self.check_writable()
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        record = self.create_record(self.service_data(form.validated_data))
        return self.respond(record, status.HTTP_201_CREATED)


class RecordDetailView(RecordAPIMixin, generics.RetrieveAPIView):
    def update_record(self, record: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def _update(self, request, *, partial: bool) -> Response:
        record = self.get_object()
        self.check_writable()
        form = self.get_serializer(data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        return self.respond(self.update_record(record, self.service_data(form.validated_data)))

    def put(self, request, tenant_id, **kwargs):
        return self._update(request, partial=False)

    def patch(self, request, tenant_id, **kwargs):
        return self._update(request, partial=True)


def documented(serializer: type, plural: str, singular: str, id_name: str | None = None):
    """The schema of a list (``id_name`` None) or detail view of one record type."""
    parameters = [TENANT_PARAMETER]
    if id_name is None:
        return extend_schema_view(
            get=extend_schema(
                parameters=parameters,
                responses={200: serializer(many=True), **TENANT_ERRORS},
                summary=f"The {plural}",
            ),
            post=extend_schema(
                parameters=[*parameters, IDEMPOTENCY_PARAMETER],
                request=serializer,
                responses={201: serializer, **WRITE_ERRORS},
                summary=f"Create a {singular}; 400 with a message per wrong field saves nothing",
            ),
        )
    parameters = [*parameters, OpenApiParameter(id_name, int, OpenApiParameter.PATH)]
    return extend_schema_view(
        get=extend_schema(
            parameters=parameters,
            responses={200: serializer, **TENANT_ERRORS},
            summary=f"One {singular}",
        ),
        put=extend_schema(
            parameters=parameters,
            request=serializer,
            responses={200: serializer, **WRITE_ERRORS},
            summary=f"Replace a {singular}'s fields",
        ),
        patch=extend_schema(
            parameters=parameters,
            request=serializer,
            responses={200: serializer, **WRITE_ERRORS},
            summary=f"Change some of a {singular}'s fields",
        ),
    )


# Customers -------------------------------------------------------------------------------


class CustomerViewMixin:
    model = Customer
    serializer_class = serializers.CustomerSerializer
    prefetch_related = ("addresses", "contacts")


@documented(serializers.CustomerSerializer, "customers", "customer")
class CustomerListView(CustomerViewMixin, RecordListView):
    def create_record(self, data):
        return services.customer_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.CustomerSerializer, "customers", "customer", "customer_id")
class CustomerDetailView(CustomerViewMixin, RecordDetailView):
    lookup_url_kwarg = "customer_id"

    def update_record(self, record, data):
        return services.customer_update(customer=record, data=data, by_user=self.request.user)


# Products --------------------------------------------------------------------------------


class ProductViewMixin:
    model = Product
    serializer_class = serializers.ProductSerializer
    references = {"unit": Unit}


@documented(serializers.ProductSerializer, "products", "product")
class ProductListView(ProductViewMixin, RecordListView):
    def create_record(self, data):
        return services.product_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.ProductSerializer, "products", "product", "product_id")
class ProductDetailView(ProductViewMixin, RecordDetailView):
    lookup_url_kwarg = "product_id"

    def update_record(self, record, data):
        return services.product_update(product=record, data=data, by_user=self.request.user)


# Projects --------------------------------------------------------------------------------


class ProjectViewMixin:
    model = Project
    serializer_class = serializers.ProjectSerializer
    references = {"customer": Customer}


@documented(serializers.ProjectSerializer, "projects", "project")
class ProjectListView(ProjectViewMixin, RecordListView):
    def create_record(self, data):
        return services.project_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.ProjectSerializer, "projects", "project", "project_id")
class ProjectDetailView(ProjectViewMixin, RecordDetailView):
    lookup_url_kwarg = "project_id"

    def update_record(self, record, data):
        return services.project_update(project=record, data=data, by_user=self.request.user)


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
            tenant=self.tenant, data=data, by_user=self.request.user
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
            customer_invoice=record, data=data, by_user=self.request.user
        )


# Project fees ----------------------------------------------------------------------------


class ProjectFeeViewMixin:
    model = ProjectFee
    serializer_class = serializers.ProjectFeeSerializer
    references = {"project": Project, "product": Product}


@documented(serializers.ProjectFeeSerializer, "project fees", "project fee")
class ProjectFeeListView(ProjectFeeViewMixin, RecordListView):
    def create_record(self, data):
        return services.project_fee_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.ProjectFeeSerializer, "project fees", "project fee", "projectfee_id")
class ProjectFeeDetailView(ProjectFeeViewMixin, RecordDetailView):
    lookup_url_kwarg = "projectfee_id"

    def update_record(self, record, data):
        return services.project_fee_update(project_fee=record, data=data, by_user=self.request.user)


# Business units, cost centres, units, invoice statuses, employees ------------------------


class BusinessUnitViewMixin:
    model = BusinessUnit
    serializer_class = serializers.BusinessUnitSerializer


@documented(serializers.BusinessUnitSerializer, "business units", "business unit")
class BusinessUnitListView(BusinessUnitViewMixin, RecordListView):
    def create_record(self, data):
        return services.business_unit_create(
            tenant=self.tenant, data=data, by_user=self.request.user
        )


@documented(
    serializers.BusinessUnitSerializer, "business units", "business unit", "businessunit_id"
)
class BusinessUnitDetailView(BusinessUnitViewMixin, RecordDetailView):
    lookup_url_kwarg = "businessunit_id"

    def update_record(self, record, data):
        return services.business_unit_update(
            business_unit=record, data=data, by_user=self.request.user
        )


class CostCentreViewMixin:
    model = CostCentre
    serializer_class = serializers.CostCentreSerializer


@documented(serializers.CostCentreSerializer, "cost centres", "cost centre")
class CostCentreListView(CostCentreViewMixin, RecordListView):
    def create_record(self, data):
        return services.cost_centre_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.CostCentreSerializer, "cost centres", "cost centre", "costcentre_id")
class CostCentreDetailView(CostCentreViewMixin, RecordDetailView):
    lookup_url_kwarg = "costcentre_id"

    def update_record(self, record, data):
        return services.cost_centre_update(cost_centre=record, data=data, by_user=self.request.user)


class UnitViewMixin:
    model = Unit
    serializer_class = serializers.UnitSerializer


@documented(serializers.UnitSerializer, "units of measure", "unit")
class UnitListView(UnitViewMixin, RecordListView):
    def create_record(self, data):
        return services.unit_create(tenant=self.tenant, data=data, by_user=self.request.user)


@documented(serializers.UnitSerializer, "units of measure", "unit", "unit_id")
class UnitDetailView(UnitViewMixin, RecordDetailView):
    lookup_url_kwarg = "unit_id"

    def update_record(self, record, data):
        return services.unit_update(unit=record, data=data, by_user=self.request.user)


class InvoiceStatusViewMixin:
    model = InvoiceStatus
    serializer_class = serializers.InvoiceStatusSerializer

    def get_queryset(self):
        # The default list exists from the first look on.
        services.invoice_statuses_ensure(tenant=self.tenant)
        return InvoiceStatus.objects.order_by("position", "pk")


@documented(serializers.InvoiceStatusSerializer, "invoice statuses, in order", "invoice status")
class InvoiceStatusListView(InvoiceStatusViewMixin, RecordListView):
    def create_record(self, data):
        return services.invoice_status_create(
            tenant=self.tenant, data=data, by_user=self.request.user
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
            invoice_status=record, data=data, by_user=self.request.user
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


# Path, list view, detail view and its id parameter per resource.
RESOURCES = (
    ("customers", CustomerListView, CustomerDetailView, "customer_id"),
    ("products", ProductListView, ProductDetailView, "product_id"),
    ("projects", ProjectListView, ProjectDetailView, "project_id"),
    ("customer-invoices", CustomerInvoiceListView, CustomerInvoiceDetailView, "customerinvoice_id"),
    ("project-fees", ProjectFeeListView, ProjectFeeDetailView, "projectfee_id"),
    ("business-units", BusinessUnitListView, BusinessUnitDetailView, "businessunit_id"),
    ("cost-centres", CostCentreListView, CostCentreDetailView, "costcentre_id"),
    ("units", UnitListView, UnitDetailView, "unit_id"),
    ("invoice-statuses", InvoiceStatusListView, InvoiceStatusDetailView, "invoicestatus_id"),
)


def record_urlpatterns(tenant_prefix: str) -> list[URLPattern]:
    """The routes of this module under ``tenant_prefix`` (``tenants/<int:tenant_id>``)."""
    patterns = [
        path(
            f"{tenant_prefix}/employees",
            EmployeeListView.as_view(),
            name="api_tenant_employees",
        )
    ]
    for slug, list_view, detail_view, id_name in RESOURCES:
        name = slug.replace("-", "_")
        patterns += [
            path(f"{tenant_prefix}/{slug}", list_view.as_view(), name=f"api_tenant_{name}"),
            path(
                f"{tenant_prefix}/{slug}/<int:{id_name}>",
                detail_view.as_view(),
                name=f"api_tenant_{name}_detail",
            ),
        ]
    return patterns
