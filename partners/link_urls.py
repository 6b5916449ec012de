"""E-mailed partner links under /partners/ (included from ``severa.urls``): the token names
the activation or invitation; and the sellers' public terms an approval links to."""

from django.urls import path

from partners import tenant_views

urlpatterns = [
    path(
        "activations/<str:token>/",
        tenant_views.partner_activation_approve_view,
        name="partner_activation_approve",
    ),
    path("terms/<int:seller_id>/", tenant_views.seller_terms_view, name="seller_terms"),
    path(
        "invitations/<str:token>/",
        tenant_views.partner_invitation_open_view,
        name="partner_invitation_open",
    ),
]
