"""Invoices, payments, credit notes and reissues; billing runs and seller migrations."""

from django.urls import path

from api.invoices import views
from api.paths import TENANT

urlpatterns = [
    path(f"{TENANT}/invoices", views.InvoiceListView.as_view(), name="api_tenant_invoices"),
    path(
        f"{TENANT}/invoices/<int:invoice_id>",
        views.InvoiceDetailView.as_view(),
        name="api_tenant_invoice",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/pdf",
        views.InvoicePDFView.as_view(),
        name="api_tenant_invoice_pdf",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/payments",
        views.InvoicePaymentView.as_view(),
        name="api_tenant_invoice_payments",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/credit-notes",
        views.InvoiceCreditNoteView.as_view(),
        name="api_tenant_invoice_credit_notes",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/reissue",
        views.InvoiceReissueView.as_view(),
        name="api_tenant_invoice_reissue",
    ),
    path("billing-runs", views.BillingRunListView.as_view(), name="api_billing_runs"),
    path(
        "seller-migrations",
        views.SellerMigrationListView.as_view(),
        name="api_seller_migrations",
    ),
]
