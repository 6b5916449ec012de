from django.urls import path

from billing import operator_outbox_views, operator_views

urlpatterns = [
    path("", operator_views.operator_home_view, name="operator_home"),
]

# The e-mail outbox (billing/operator_outbox_views.py).
urlpatterns += [
    path("outbox/", operator_outbox_views.operator_outbox_view, name="operator_outbox"),
    path(
        "outbox/<int:outboxmessage_id>/retry/",
        operator_outbox_views.operator_outbox_retry_view,
        name="operator_outbox_retry",
    ),
]
