from django.urls import path

from billing import partner_views as billing_partner_views
from subscriptions import partner_views

urlpatterns = [
    path("", partner_views.partner_home_view, name="partner_home"),
    path("activations/new/", partner_views.partner_activation_view, name="partner_activation"),
    path(
        "customers/<int:tenant_id>/",
        partner_views.partner_customer_view,
        name="partner_customer",
    ),
    path(
        "customers/<int:tenant_id>/end/",
        partner_views.partner_customer_end_view,
        name="partner_customer_end",
    ),
    path(
        "invitations/<int:partnerinvitation_id>/",
        partner_views.partner_invitation_view,
        name="partner_invitation",
    ),
]

# The partner's billing details, contacts and consolidated invoices (billing/partner_views.py).
urlpatterns += [
    path("billing/", billing_partner_views.partner_billing_view, name="partner_billing"),
    path(
        "billing/contacts/<int:billingcontact_id>/remove/",
        billing_partner_views.partner_billing_contact_remove_view,
        name="partner_billing_contact_remove",
    ),
    path(
        "billing/invoices/<int:invoice_id>/",
        billing_partner_views.partner_invoice_detail_view,
        name="partner_invoice_detail",
    ),
    path(
        "billing/invoices/<int:invoice_id>/pdf",
        billing_partner_views.partner_invoice_pdf_view,
        name="partner_invoice_pdf",
    ),
]
