"""Tokens, the signed-in user, the tenant, its users and invitations."""

from django.urls import path

from api.accounts import views
from api.paths import TENANT

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api_token"),
    path("auth/tokens", views.TokenListView.as_view(), name="api_tokens"),
    path("auth/tokens/<int:apitoken_id>", views.TokenDetailView.as_view(), name="api_token_detail"),
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
]
