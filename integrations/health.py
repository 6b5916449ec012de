"""How a tenant's integrations are doing: each connection's last run and its failures over
the last days, for the company overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet

from accounts.models import Tenant
from integrations.connections import PAUSED_BY_COMPANY
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus
from severa import clock

FAILURE_WINDOW_DAYS = 7
FAILED_RUN_STATUSES = (SyncRunStatus.FAILED, SyncRunStatus.PARTIAL)


@dataclass(frozen=True)
class ConnectionHealth:
    connection: Connection
    last_run: SyncRun | None
    failed_runs: int

    @property
    def healthy(self) -> bool:
        """Active, and its last run did not fail."""
        return self.connection.status == ConnectionStatus.ACTIVE and (
            self.last_run is None or self.last_run.status not in FAILED_RUN_STATUSES
        )


def connections_health(tenant: Tenant) -> list[ConnectionHealth]:
    """Every connection of the tenant but the draft ones (call inside its scope), with its
    last run and how many runs failed or partly failed in the last `FAILURE_WINDOW_DAYS`."""
    since = clock.now() - timedelta(days=FAILURE_WINDOW_DAYS)
    connections = list(
        Connection.objects.filter(tenant=tenant)
        .exclude(status=ConnectionStatus.DRAFT)
        .annotate(
            failed_runs=Count(
                "runs",
                filter=Q(runs__status__in=FAILED_RUN_STATUSES, runs__created_at__gte=since),
            )
        )
        .order_by("system")
    )
    last_runs = {
        run.connection_id: run
        for run in SyncRun.objects.filter(connection__in=connections)
        .order_by("connection_id", "-created_at", "-id")
        .distinct("connection_id")
    }
    return [
        ConnectionHealth(connection, last_runs.get(connection.pk), connection.failed_runs)
        for connection in connections
    ]


def run_history(
    connection: Connection, *, status: str = "", trigger: str = ""
) -> QuerySet[SyncRun]:
    """The connection's runs, newest first, only those of `status` and `trigger` when given
    (page this)."""
    runs = connection.runs.all()
    if status:
        runs = runs.filter(status=status)
    if trigger:
        runs = runs.filter(trigger=trigger)
    return runs.order_by("-created_at", "-id")


def failing_connections() -> list[ConnectionHealth]:
    """Every tenant's connections that need someone (call with scopes disabled): active ones
    whose last run failed or partly failed, and ones paused for a reason other than the
    company's own choice (an expired authorisation, the interface gone)."""

    candidates = list(
        Connection.objects.filter(
            Q(status=ConnectionStatus.ACTIVE)
            | (Q(status=ConnectionStatus.PAUSED) & ~Q(status_reason=PAUSED_BY_COMPANY))
        )
        .select_related("tenant")
        .order_by("tenant__name", "system")
    )
    last_runs = {
        run.connection_id: run
        for run in SyncRun.objects.filter(connection__in=candidates)
        .order_by("connection_id", "-created_at", "-id")
        .distinct("connection_id")
    }
    failing = []
    for connection in candidates:
        last_run = last_runs.get(connection.pk)
        failed = last_run is not None and last_run.status in FAILED_RUN_STATUSES
        if connection.status == ConnectionStatus.PAUSED or failed:
            failing.append(ConnectionHealth(connection, last_run, int(failed)))
    return failing
