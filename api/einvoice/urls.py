"""E-invoice downloads: Finvoice 3.0 and Peppol BIS Billing 3.0."""

from django.urls import path

from api.einvoice import views
from api.paths import TENANT

urlpatterns = [
    path(
        f"{TENANT}/invoices/<int:invoice_id>/finvoice",
        views.InvoiceFinvoiceView.as_view(),
        name="api_tenant_invoice_finvoice",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/ubl",
        views.InvoiceUBLView.as_view(),
        name="api_tenant_invoice_ubl",
    ),
]
