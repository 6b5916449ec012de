"""Invoice links, under /links/invoices/ (open without sign-in: accounts/middleware.py)."""

from django.urls import path

from billing import link_views

urlpatterns = [
    path("<str:token>/", link_views.invoice_link_view, name="invoice_link"),
    path("<str:token>/pdf", link_views.invoice_link_pdf_view, name="invoice_link_pdf"),
]
