"""Business records pages under /t/<tenant_id>/records/ (records/views.py). Ids are named
``<modelname>_id`` for the isolation walker."""

from django.urls import path

from records import views

urlpatterns = [
    path("", views.records_home_view, name="records_home"),
    path(
        "employees/from-users/",
        views.employees_from_users_view,
        name="records_employees_from_users",
    ),
    path(
        "customer-invoices/<int:customerinvoice_id>/attachments/",
        views.customer_invoice_attachment_add_view,
        name="records_customer_invoice_attachment_add",
    ),
    path(
        "customer-invoices/<int:customerinvoice_id>/attachments/<int:customerinvoiceattachment_id>/",
        views.customer_invoice_attachment_view,
        name="records_customer_invoice_attachment",
    ),
]

for slug, record_type in views.RECORD_TYPES.items():
    urlpatterns += [
        path(f"{slug}/", views.LIST_VIEWS[slug], name=f"records_{record_type.url_name}"),
        path(
            f"{slug}/new/",
            views.CREATE_VIEWS[slug],
            name=f"records_{record_type.url_name}_create",
        ),
        path(
            f"{slug}/<int:{record_type.id_parameter}>/",
            views.EDIT_VIEWS[slug],
            name=f"records_{record_type.url_name}_edit",
        ),
    ]
