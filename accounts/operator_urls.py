"""The operators' page of accounts, under /operator/ (included from ``severa.urls`` next to
billing's and partners' operator pages): everyone's audit log."""

from django.urls import path

from accounts import audit_views

urlpatterns = [
    path("audit/", audit_views.operator_audit_view, name="operator_audit"),
]
