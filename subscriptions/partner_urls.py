from django.urls import path

from subscriptions import partner_views

urlpatterns = [
    path("", partner_views.partner_home_view, name="partner_home"),
]
