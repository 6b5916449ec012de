"""Catalog, sellers, provisioning, the subscription, quotes, scheduled changes and licences."""

from django.urls import path

from api.paths import TENANT
from api.subscriptions import views

urlpatterns = [
    path("catalog", views.CatalogView.as_view(), name="api_catalog"),
    path("sellers", views.SellerListView.as_view(), name="api_sellers"),
    path("tenants", views.TenantProvisionView.as_view(), name="api_tenants"),
    path(
        f"{TENANT}/subscription",
        views.SubscriptionView.as_view(),
        name="api_tenant_subscription",
    ),
    path(
        f"{TENANT}/support",
        views.SupportContactView.as_view(),
        name="api_tenant_support",
    ),
    path(f"{TENANT}/quotes", views.QuoteListView.as_view(), name="api_tenant_quotes"),
    path(
        f"{TENANT}/quotes/<int:quote_id>",
        views.QuoteDetailView.as_view(),
        name="api_tenant_quote",
    ),
    path(
        f"{TENANT}/quotes/<int:quote_id>/confirm",
        views.QuoteConfirmView.as_view(),
        name="api_tenant_quote_confirm",
    ),
    path(
        f"{TENANT}/scheduled-changes",
        views.ScheduledChangeListView.as_view(),
        name="api_tenant_scheduled_changes",
    ),
    path(
        f"{TENANT}/scheduled-changes/<int:scheduledchange_id>",
        views.ScheduledChangeDetailView.as_view(),
        name="api_tenant_scheduled_change",
    ),
    path(
        f"{TENANT}/users/<int:membership_id>/activate",
        views.LicenceActivateView.as_view(),
        name="api_tenant_user_activate",
    ),
    path(
        f"{TENANT}/users/<int:membership_id>/deactivate",
        views.LicenceDeactivateView.as_view(),
        name="api_tenant_user_deactivate",
    ),
]
