from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import views

TENANT = "tenants/<int:tenant_id>"

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api_token"),
    path("me", views.MeView.as_view(), name="api_me"),
    path(f"{TENANT}", views.TenantDetailView.as_view(), name="api_tenant"),
    path(f"{TENANT}/users", views.MembershipListView.as_view(), name="api_tenant_users"),
    path(
        f"{TENANT}/users/<int:membership_id>",
        views.MembershipDetailView.as_view(),
        name="api_tenant_user",
    ),
    path(
        f"{TENANT}/invitations", views.InvitationListView.as_view(), name="api_tenant_invitations"
    ),
    path(
        f"{TENANT}/invitations/<int:invitation_id>",
        views.InvitationDetailView.as_view(),
        name="api_tenant_invitation",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]
