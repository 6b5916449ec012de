"""The API under /api/v1/: each domain's routes (api/<domain>/urls.py), the schema and its
interactive docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.accounts import urls as accounts
from api.billing import urls as billing
from api.einvoice import urls as einvoice
from api.integrations import urls as integrations
from api.invoices import urls as invoices
from api.orders import urls as orders
from api.partners import urls as partners
from api.records import urls as records
from api.subscriptions import urls as subscriptions

urlpatterns = [
    *accounts.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    *billing.urlpatterns,
    *orders.urlpatterns,
    *subscriptions.urlpatterns,
    *invoices.urlpatterns,
    *einvoice.urlpatterns,
    *partners.urlpatterns,
    *integrations.urlpatterns,
    *records.urlpatterns,
]
