"""The tenant's business records: a list and a detail route per record type, and the
employees."""

from django.urls import path

from api.paths import TENANT
from api.records.views import (
    BusinessUnitDetailView,
    BusinessUnitListView,
    CostCentreDetailView,
    CostCentreListView,
    CustomerDetailView,
    CustomerInvoiceDetailView,
    CustomerInvoiceListView,
    CustomerListView,
    EmployeeListView,
    InvoiceStatusDetailView,
    InvoiceStatusListView,
    ProductDetailView,
    ProductListView,
    ProjectDetailView,
    ProjectFeeDetailView,
    ProjectFeeListView,
    ProjectListView,
    UnitDetailView,
    UnitListView,
)

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


urlpatterns = [
    path(f"{TENANT}/employees", EmployeeListView.as_view(), name="api_tenant_employees"),
]
for slug, list_view, detail_view, id_name in RESOURCES:
    name = slug.replace("-", "_")
    urlpatterns += [
        path(f"{TENANT}/{slug}", list_view.as_view(), name=f"api_tenant_{name}"),
        path(
            f"{TENANT}/{slug}/<int:{id_name}>",
            detail_view.as_view(),
            name=f"api_tenant_{name}_detail",
        ),
    ]
