"""Order confirmations (order history) and their PDFs."""

from django.urls import path

from api.orders import views
from api.paths import TENANT

urlpatterns = [
    path(
        f"{TENANT}/order-confirmations",
        views.OrderConfirmationListView.as_view(),
        name="api_tenant_order_confirmations",
    ),
    path(
        f"{TENANT}/order-confirmations/<int:orderconfirmation_id>",
        views.OrderConfirmationDetailView.as_view(),
        name="api_tenant_order_confirmation",
    ),
    path(
        f"{TENANT}/order-confirmations/<int:orderconfirmation_id>/pdf",
        views.OrderConfirmationPDFView.as_view(),
        name="api_tenant_order_confirmation_pdf",
    ),
]
