"""The partner portal, under /p/<partner_id>/ (included from ``severa.urls``)."""

from django.urls import path

from partners import billing_views, views

urlpatterns = [
    path("", views.partner_home_view, name="partner_home"),
    path("activations/new/", views.partner_activation_view, name="partner_activation"),
    path(
        "customers/<int:tenant_id>/",
        views.partner_customer_view,
        name="partner_customer",
    ),
    path(
        "customers/<int:tenant_id>/end/",
        views.partner_customer_end_view,
        name="partner_customer_end",
    ),
    path(
        "invitations/<int:partnerinvitation_id>/",
        views.partner_invitation_view,
        name="partner_invitation",
    ),
]

# The partner's billing details, contacts and consolidated invoices (partners/billing_views.py).
urlpatterns += [
    path("billing/", billing_views.partner_billing_view, name="partner_billing"),
    path(
        "billing/contacts/<int:billingcontact_id>/remove/",
        billing_views.partner_billing_contact_remove_view,
        name="partner_billing_contact_remove",
    ),
    path(
        "billing/invoices/<int:invoice_id>/",
        billing_views.partner_invoice_detail_view,
        name="partner_invoice_detail",
    ),
    path(
        "billing/invoices/<int:invoice_id>/pdf",
        billing_views.partner_invoice_pdf_view,
        name="partner_invoice_pdf",
    ),
]
