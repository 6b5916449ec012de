from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.accounts import views
from api.orders import views as views_orders

TENANT = "tenants/<int:tenant_id>"

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api_token"),
    path("auth/tokens", views.TokenListView.as_view(), name="api_tokens"),
    path("auth/tokens/<int:apitoken_id>", views.TokenDetailView.as_view(), name="api_token_detail"),
    path("me", views.MeView.as_view(), name="api_me"),
    path(f"{TENANT}", views.TenantDetailView.as_view(), name="api_tenant"),
    path(f"{TENANT}/users", views.MembershipListView.as_view(), name="api_tenant_users"),
    path(
        f"{TENANT}/users/<int:membership_id>",
        views.MembershipDetailView.as_view(),
        name="api_tenant_user",
    ),
    path(
        f"{TENANT}/invitations", views.InvitationListView.as_view(), name="api_tenant_invitations"
    ),
    path(
        f"{TENANT}/invitations/<int:invitation_id>",
        views.InvitationDetailView.as_view(),
        name="api_tenant_invitation",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]

# Billing details and contacts (api/billing/views.py).
from api.billing import views as views_billing  # noqa: E402

urlpatterns += [
    path(
        f"{TENANT}/billing-details",
        views_billing.BillingDetailsView.as_view(),
        name="api_tenant_billing_details",
    ),
    path(
        f"{TENANT}/seller-change",
        views_billing.SellerChangeReviewView.as_view(),
        name="api_tenant_seller_change",
    ),
    path(
        f"{TENANT}/billing-contacts",
        views_billing.BillingContactListView.as_view(),
        name="api_tenant_billing_contacts",
    ),
    path(
        f"{TENANT}/billing-contacts/<int:billingcontact_id>",
        views_billing.BillingContactDetailView.as_view(),
        name="api_tenant_billing_contact",
    ),
]

# Order confirmations (api/orders/views.py).
urlpatterns += [
    path(
        f"{TENANT}/order-confirmations",
        views_orders.OrderConfirmationListView.as_view(),
        name="api_tenant_order_confirmations",
    ),
    path(
        f"{TENANT}/order-confirmations/<int:orderconfirmation_id>",
        views_orders.OrderConfirmationDetailView.as_view(),
        name="api_tenant_order_confirmation",
    ),
    path(
        f"{TENANT}/order-confirmations/<int:orderconfirmation_id>/pdf",
        views_orders.OrderConfirmationPDFView.as_view(),
        name="api_tenant_order_confirmation_pdf",
    ),
]

# Subscriptions: catalog, sellers, provisioning, the subscription, quotes, scheduled changes,
# licences (api/subscriptions/views.py).
from api.subscriptions import views as views_subscriptions  # noqa: E402

urlpatterns += [
    path("catalog", views_subscriptions.CatalogView.as_view(), name="api_catalog"),
    path("sellers", views_subscriptions.SellerListView.as_view(), name="api_sellers"),
    path("tenants", views_subscriptions.TenantProvisionView.as_view(), name="api_tenants"),
    path(
        f"{TENANT}/subscription",
        views_subscriptions.SubscriptionView.as_view(),
        name="api_tenant_subscription",
    ),
    path(
        f"{TENANT}/support",
        views_subscriptions.SupportContactView.as_view(),
        name="api_tenant_support",
    ),
    path(f"{TENANT}/quotes", views_subscriptions.QuoteListView.as_view(), name="api_tenant_quotes"),
    path(
        f"{TENANT}/quotes/<int:quote_id>",
        views_subscriptions.QuoteDetailView.as_view(),
        name="api_tenant_quote",
    ),
    path(
        f"{TENANT}/quotes/<int:quote_id>/confirm",
        views_subscriptions.QuoteConfirmView.as_view(),
        name="api_tenant_quote_confirm",
    ),
    path(
        f"{TENANT}/scheduled-changes",
        views_subscriptions.ScheduledChangeListView.as_view(),
        name="api_tenant_scheduled_changes",
    ),
    path(
        f"{TENANT}/scheduled-changes/<int:scheduledchange_id>",
        views_subscriptions.ScheduledChangeDetailView.as_view(),
        name="api_tenant_scheduled_change",
    ),
    path(
        f"{TENANT}/users/<int:membership_id>/activate",
        views_subscriptions.LicenceActivateView.as_view(),
        name="api_tenant_user_activate",
    ),
    path(
        f"{TENANT}/users/<int:membership_id>/deactivate",
        views_subscriptions.LicenceDeactivateView.as_view(),
        name="api_tenant_user_deactivate",
    ),
]

# Invoices, payments and credit notes; billing runs and seller migrations
# (api/invoices/views.py).
from api.invoices import views as views_invoices  # noqa: E402

urlpatterns += [
    path(
        f"{TENANT}/invoices", views_invoices.InvoiceListView.as_view(), name="api_tenant_invoices"
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>",
        views_invoices.InvoiceDetailView.as_view(),
        name="api_tenant_invoice",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/pdf",
        views_invoices.InvoicePDFView.as_view(),
        name="api_tenant_invoice_pdf",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/payments",
        views_invoices.InvoicePaymentView.as_view(),
        name="api_tenant_invoice_payments",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/credit-notes",
        views_invoices.InvoiceCreditNoteView.as_view(),
        name="api_tenant_invoice_credit_notes",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/reissue",
        views_invoices.InvoiceReissueView.as_view(),
        name="api_tenant_invoice_reissue",
    ),
    path("billing-runs", views_invoices.BillingRunListView.as_view(), name="api_billing_runs"),
    path(
        "seller-migrations",
        views_invoices.SellerMigrationListView.as_view(),
        name="api_seller_migrations",
    ),
]

# E-invoice downloads: Finvoice 3.0 and Peppol BIS Billing 3.0 (api/einvoice/views.py).
from api.einvoice import views as views_einvoice  # noqa: E402

urlpatterns += [
    path(
        f"{TENANT}/invoices/<int:invoice_id>/finvoice",
        views_einvoice.InvoiceFinvoiceView.as_view(),
        name="api_tenant_invoice_finvoice",
    ),
    path(
        f"{TENANT}/invoices/<int:invoice_id>/ubl",
        views_einvoice.InvoiceUBLView.as_view(),
        name="api_tenant_invoice_ubl",
    ),
]

# A partner's consolidated invoices (api/partners/invoices.py).
from api.partners import views as views_partner_invoices  # noqa: E402

urlpatterns += [
    path(
        "partners/<int:partner_id>/invoices",
        views_partner_invoices.PartnerInvoiceListView.as_view(),
        name="api_partner_invoices",
    ),
    path(
        "partners/<int:partner_id>/invoices/<int:invoice_id>",
        views_partner_invoices.PartnerInvoiceDetailView.as_view(),
        name="api_partner_invoice",
    ),
]

# Connections to accounting systems, sync runs and transfers (api/integrations/views.py).
from api.integrations import views as views_integrations  # noqa: E402

CONNECTION = f"{TENANT}/connections/<int:connection_id>"
urlpatterns += [
    path(
        f"{TENANT}/connections",
        views_integrations.ConnectionListView.as_view(),
        name="api_tenant_connections",
    ),
    path(
        CONNECTION,
        views_integrations.ConnectionDetailView.as_view(),
        name="api_tenant_connection",
    ),
    path(
        f"{CONNECTION}/authorize",
        views_integrations.ConnectionAuthorizeView.as_view(),
        name="api_tenant_connection_authorize",
    ),
    path(
        f"{CONNECTION}/sync",
        views_integrations.ConnectionSyncView.as_view(),
        name="api_tenant_connection_sync",
    ),
    path(
        f"{CONNECTION}/runs",
        views_integrations.SyncRunListView.as_view(),
        name="api_tenant_connection_runs",
    ),
    path(
        f"{CONNECTION}/runs/<int:syncrun_id>/transfers",
        views_integrations.TransferListView.as_view(),
        name="api_tenant_connection_run_transfers",
    ),
    path(
        f"{CONNECTION}/segments",
        views_integrations.SegmentsView.as_view(),
        name="api_tenant_connection_segments",
    ),
]

# The tenant's business records (api/records/views.py).
from api.records import views as views_records  # noqa: E402

urlpatterns += views_records.record_urlpatterns(TENANT)

# Partners (api/partners/views.py).
from api.partners import views as views_partners  # noqa: E402

PARTNER = "partners/<int:partner_id>"
urlpatterns += [
    path("partners", views_partners.PartnerCreateView.as_view(), name="api_partners"),
    path(
        f"{PARTNER}/customers",
        views_partners.CustomerListView.as_view(),
        name="api_partner_customers",
    ),
    path(
        f"{PARTNER}/customers/<int:tenant_id>",
        views_partners.CustomerDetailView.as_view(),
        name="api_partner_customer",
    ),
    path(
        f"{PARTNER}/engagements",
        views_partners.EngagementListView.as_view(),
        name="api_partner_engagements",
    ),
    path(
        f"{PARTNER}/activations",
        views_partners.ActivationListView.as_view(),
        name="api_partner_activations",
    ),
    path(
        f"{PARTNER}/invitations",
        views_partners.PartnerInvitationListView.as_view(),
        name="api_partner_invitations",
    ),
    path(
        f"{PARTNER}/invitations/<int:partnerinvitation_id>/accept",
        views_partners.PartnerInvitationAcceptView.as_view(),
        name="api_partner_invitation_accept",
    ),
]

# The on-premises agents' protocol (integrations/agent_api.py).
from django.urls import include  # noqa: E402

urlpatterns += [path("agent/", include("integrations.agent_api"))]

# The agent of a connection (api/integrations/agents.py).

urlpatterns += [
    path(
        f"{CONNECTION}/agent",
        views_integrations.ConnectionAgentView.as_view(),
        name="api_tenant_connection_agent",
    ),
]
