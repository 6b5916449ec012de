"""Partner organisations, a partner's customers, engagements, activations, invitations and
consolidated invoices."""

from django.urls import path

from api.partners import views

PARTNER = "partners/<int:partner_id>"

urlpatterns = [
    path("partners", views.PartnerCreateView.as_view(), name="api_partners"),
    path(
        f"{PARTNER}/customers",
        views.CustomerListView.as_view(),
        name="api_partner_customers",
    ),
    path(
        f"{PARTNER}/customers/<int:tenant_id>",
        views.CustomerDetailView.as_view(),
        name="api_partner_customer",
    ),
    path(
        f"{PARTNER}/engagements",
        views.EngagementListView.as_view(),
        name="api_partner_engagements",
    ),
    path(
        f"{PARTNER}/activations",
        views.ActivationListView.as_view(),
        name="api_partner_activations",
    ),
    path(
        f"{PARTNER}/invitations",
        views.PartnerInvitationListView.as_view(),
        name="api_partner_invitations",
    ),
    path(
        f"{PARTNER}/invitations/<int:partnerinvitation_id>/accept",
        views.PartnerInvitationAcceptView.as_view(),
        name="api_partner_invitation_accept",
    ),
    path(
        f"{PARTNER}/invoices",
        views.PartnerInvoiceListView.as_view(),
        name="api_partner_invoices",
    ),
    path(
        f"{PARTNER}/invoices/<int:invoice_id>",
        views.PartnerInvoiceDetailView.as_view(),
        name="api_partner_invoice",
    ),
]
