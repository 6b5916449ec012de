"""Billing details, the seller-change review and billing contacts."""

from django.urls import path

from api.billing import views
from api.paths import TENANT

urlpatterns = [
    path(
        f"{TENANT}/billing-details",
        views.BillingDetailsView.as_view(),
        name="api_tenant_billing_details",
    ),
    path(
        f"{TENANT}/seller-change",
        views.SellerChangeReviewView.as_view(),
        name="api_tenant_seller_change",
    ),
    path(
        f"{TENANT}/billing-contacts",
        views.BillingContactListView.as_view(),
        name="api_tenant_billing_contacts",
    ),
    path(
        f"{TENANT}/billing-contacts/<int:billingcontact_id>",
        views.BillingContactDetailView.as_view(),
        name="api_tenant_billing_contact",
    ),
]
