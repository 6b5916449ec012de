"""The operators' pages of partners, under /operator/ (included from ``severa.urls`` next
to ``billing.operator_urls``): partners' downgrades that are not self-service."""

from django.urls import path

from partners import operator_views

urlpatterns = [
    path(
        "support-requests/",
        operator_views.operator_support_requests_view,
        name="operator_support_requests",
    ),
    path(
        "support-requests/<int:supportrequest_id>/resolve/",
        operator_views.operator_support_request_resolve_view,
        name="operator_support_request_resolve",
    ),
]
