from django.urls import path

from billing import operator_einvoice_views, operator_outbox_views, operator_views

urlpatterns = [
    path("", operator_views.operator_home_view, name="operator_home"),
]

# Billing runs, invoices with payments and credit notes, seller migrations.
urlpatterns += [
    path("billing-runs/", operator_views.billing_runs_view, name="operator_billing_runs"),
    path(
        "billing-runs/run-now/",
        operator_views.billing_run_now_view,
        name="operator_billing_run_now",
    ),
    path("invoices/", operator_views.invoices_view, name="operator_invoices"),
    path("invoices/<int:invoice_id>/", operator_views.invoice_detail_view, name="operator_invoice"),
    path(
        "invoices/<int:invoice_id>/payments/",
        operator_views.invoice_payment_view,
        name="operator_invoice_payment",
    ),
    path(
        "invoices/<int:invoice_id>/credit-notes/",
        operator_views.invoice_credit_note_view,
        name="operator_invoice_credit_note",
    ),
    path(
        "invoices/<int:invoice_id>/reissue/",
        operator_views.invoice_reissue_view,
        name="operator_invoice_reissue",
    ),
    path(
        "seller-migrations/",
        operator_views.seller_migrations_view,
        name="operator_seller_migrations",
    ),
    path(
        "seller-migrations/<int:sellermigration_id>/",
        operator_views.seller_migration_detail_view,
        name="operator_seller_migration",
    ),
    path(
        "seller-migrations/<int:sellermigration_id>/notify/",
        operator_views.seller_migration_notify_view,
        name="operator_seller_migration_notify",
    ),
    path(
        "seller-migrations/<int:sellermigration_id>/cancel/",
        operator_views.seller_migration_cancel_view,
        name="operator_seller_migration_cancel",
    ),
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

# E-invoice deliveries (billing/operator_einvoice_views.py).
urlpatterns += [
    path("einvoices/", operator_einvoice_views.operator_einvoices_view, name="operator_einvoices"),
    path(
        "einvoices/<int:einvoicedelivery_id>/retry/",
        operator_einvoice_views.operator_einvoice_retry_view,
        name="operator_einvoice_retry",
    ),
]
