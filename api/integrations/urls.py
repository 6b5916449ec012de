"""Connections to accounting systems, their sync runs and transfers, Visma.net ERP segments
and a connection's agent; the on-premises agents' protocol."""

from django.urls import include, path

from api.integrations import views
from api.paths import TENANT

CONNECTION = f"{TENANT}/connections/<int:connection_id>"

urlpatterns = [
    path(
        f"{TENANT}/connections",
        views.ConnectionListView.as_view(),
        name="api_tenant_connections",
    ),
    path(
        CONNECTION,
        views.ConnectionDetailView.as_view(),
        name="api_tenant_connection",
    ),
    path(
        f"{CONNECTION}/authorize",
        views.ConnectionAuthorizeView.as_view(),
        name="api_tenant_connection_authorize",
    ),
    path(
        f"{CONNECTION}/sync",
        views.ConnectionSyncView.as_view(),
        name="api_tenant_connection_sync",
    ),
    path(
        f"{CONNECTION}/runs",
        views.SyncRunListView.as_view(),
        name="api_tenant_connection_runs",
    ),
    path(
        f"{CONNECTION}/runs/<int:syncrun_id>/transfers",
        views.TransferListView.as_view(),
        name="api_tenant_connection_run_transfers",
    ),
    path(
        f"{CONNECTION}/segments",
        views.SegmentsView.as_view(),
        name="api_tenant_connection_segments",
    ),
    path(
        f"{CONNECTION}/agent",
        views.ConnectionAgentView.as_view(),
        name="api_tenant_connection_agent",
    ),
    # The on-premises agents' protocol (integrations/agent_api.py).
    path("agent/", include("integrations.agent_api")),
]
