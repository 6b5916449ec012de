"""The company's Partners page, under /t/<tenant_id>/partners/ (included from
``severa.tenant_urls``): invite a partner, end a collaboration, approve an activation."""

from django.urls import path

from partners import tenant_views

urlpatterns = [
    path("", tenant_views.tenant_partners_view, name="tenant_partners"),
    path(
        "<int:collaboration_id>/end/",
        tenant_views.tenant_collaboration_end_view,
        name="tenant_collaboration_end",
    ),
    path(
        "activations/<int:partneractivation_id>/",
        tenant_views.tenant_activation_approve_view,
        name="tenant_partner_activation",
    ),
]
