"""Pages that act for one tenant: every route here carries ``tenant_id``."""

from django.urls import include, path

from accounts import audit_views
from accounts import views as account_views
from billing import views as billing_views
from integrations import views as integration_views
from integrations.vismanet import views as vismanet_views
from subscriptions import licence_views, order_views
from subscriptions import views as subscription_views

urlpatterns = [
    path("", account_views.tenant_home_view, name="tenant_home"),
    path("users/", account_views.users_view, name="tenant_users"),
    path(
        "users/<int:membership_id>/role/",
        account_views.membership_role_view,
        name="tenant_membership_role",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        account_views.invitation_revoke_view,
        name="tenant_invitation_revoke",
    ),
    path("audit/", audit_views.tenant_audit_view, name="tenant_audit"),
    path("upgrades/", subscription_views.upgrades_view, name="tenant_upgrades"),
    path("billing/", billing_views.billing_view, name="tenant_billing"),
    path("integrations/", integration_views.integrations_view, name="tenant_integrations"),
    path("records/", include("records.urls")),
]

# Order history (subscriptions/order_views.py).
urlpatterns += [
    path("upgrades/orders/", order_views.order_list_view, name="tenant_orders"),
    path(
        "upgrades/orders/<int:orderconfirmation_id>/",
        order_views.order_detail_view,
        name="tenant_order_detail",
    ),
    path(
        "upgrades/orders/<int:orderconfirmation_id>/pdf",
        order_views.order_pdf_view,
        name="tenant_order_pdf",
    ),
]

# Upgrades: Adjust features, Change edition, termination, the Agreement page.
urlpatterns += [
    path("upgrades/adjust/", subscription_views.adjust_view, name="tenant_adjust"),
    path("upgrades/edition/", subscription_views.change_edition_view, name="tenant_edition"),
    path("upgrades/terminate/", subscription_views.terminate_view, name="tenant_terminate"),
    path(
        "upgrades/agreement/<int:quote_id>/",
        subscription_views.agreement_view,
        name="tenant_agreement",
    ),
    path(
        "upgrades/scheduled/<int:scheduledchange_id>/cancel/",
        subscription_views.scheduled_change_cancel_view,
        name="tenant_scheduled_change_cancel",
    ),
    path(
        "users/<int:membership_id>/licence/",
        licence_views.membership_licence_view,
        name="tenant_membership_licence",
    ),
]

# Billing details and contacts (billing/views.py).
urlpatterns += [
    path("billing/details/", billing_views.billing_details_view, name="tenant_billing_details"),
    path(
        "seller-change/dismiss/",
        billing_views.seller_change_dismiss_view,
        name="tenant_seller_change_dismiss",
    ),
    path("billing/contacts/", billing_views.billing_contacts_view, name="tenant_billing_contacts"),
    path(
        "billing/contacts/<int:billingcontact_id>/remove/",
        billing_views.billing_contact_remove_view,
        name="tenant_billing_contact_remove",
    ),
]

# Invoices and credit notes (billing/views.py).
urlpatterns += [
    path(
        "billing/invoices/<int:invoice_id>/",
        billing_views.invoice_detail_view,
        name="tenant_invoice_detail",
    ),
    path(
        "billing/invoices/<int:invoice_id>/pdf",
        billing_views.invoice_pdf_view,
        name="tenant_invoice_pdf",
    ),
]

# The seller's terms of service, accepted after a seller migration (billing/terms_views.py).
from billing import terms_views  # noqa: E402

urlpatterns += [
    path("terms/", terms_views.terms_view, name="tenant_terms"),
]

# E-invoice downloads of an invoice or credit note (billing/einvoice/views.py).
from billing.einvoice import views as einvoice_views  # noqa: E402

urlpatterns += [
    path(
        "billing/invoices/<int:invoice_id>/finvoice",
        einvoice_views.invoice_finvoice_view,
        name="tenant_invoice_finvoice",
    ),
    path(
        "billing/invoices/<int:invoice_id>/ubl",
        einvoice_views.invoice_ubl_view,
        name="tenant_invoice_ubl",
    ),
]

# Integrations: connections, their settings and authorisation, sync runs and their transfer
# log (integrations/views.py).
urlpatterns += [
    path(
        "integrations/<int:connection_id>/",
        integration_views.connection_view,
        name="tenant_integration",
    ),
    path(
        "integrations/<int:connection_id>/connect/",
        integration_views.connection_connect_view,
        name="tenant_integration_connect",
    ),
    path(
        "integrations/<int:connection_id>/disconnect/",
        integration_views.connection_disconnect_view,
        name="tenant_integration_disconnect",
    ),
    path(
        "integrations/<int:connection_id>/pause/",
        integration_views.connection_pause_view,
        name="tenant_integration_pause",
    ),
    path(
        "integrations/<int:connection_id>/resume/",
        integration_views.connection_resume_view,
        name="tenant_integration_resume",
    ),
    path(
        "integrations/<int:connection_id>/sync/",
        integration_views.connection_sync_view,
        name="tenant_integration_sync",
    ),
    path(
        "integrations/<int:connection_id>/runs/<int:syncrun_id>/",
        integration_views.run_view,
        name="tenant_integration_run",
    ),
    path(
        "integrations/<int:connection_id>/runs/<int:syncrun_id>/progress/",
        integration_views.run_progress_view,
        name="tenant_integration_run_progress",
    ),
    path(
        "integrations/<int:connection_id>/segments/",
        vismanet_views.segments_view,
        name="tenant_integration_segments",
    ),
]

# The agent of a connection to an on-premises system (integrations/agent_views.py).
from integrations import agent_views  # noqa: E402

urlpatterns += [
    path(
        "integrations/<int:connection_id>/agent/key/",
        agent_views.agent_key_view,
        name="tenant_integration_agent_key",
    ),
    path(
        "integrations/<int:connection_id>/agent/revoke/",
        agent_views.agent_revoke_view,
        name="tenant_integration_agent_revoke",
    ),
    path(
        "integrations/<int:connection_id>/agent/settings/",
        agent_views.agent_settings_view,
        name="tenant_integration_agent_settings",
    ),
]

# Partners: invite a partner, end a collaboration, approve an activation (partners/).
urlpatterns += [path("partners/", include("partners.tenant_urls"))]
