from django.urls import path

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
