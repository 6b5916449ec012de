"""E-mailed partner links: the token names the activation or invitation."""

from django.urls import path

from subscriptions import partner_views

urlpatterns = [
    path(
        "activations/<str:token>/",
        partner_views.partner_activation_approve_view,
        name="partner_activation_approve",
    ),
    path("terms/<int:seller_id>/", partner_views.seller_terms_view, name="seller_terms"),
    path(
        "invitations/<str:token>/",
        partner_views.partner_invitation_open_view,
        name="partner_invitation_open",
    ),
]
