from django.urls import path

from billing import operator_views

urlpatterns = [
    path("", operator_views.operator_home_view, name="operator_home"),
]
