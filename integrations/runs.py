"""Sync runs: starting one (button, API, schedule), executing it in a worker, and telling
the tenant's error addresses when records failed.

One run at a time per connection: the partial unique constraint
`integration_syncrun_one_open_per_connection` allows one queued-or-running run, whoever
queues it (the beat, "Sync now", the API), and a PostgreSQL advisory lock held while a run
executes keeps a redelivered task message from running it twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from accounts.mail import mail_enqueue
from accounts.models import User
from integrations.connections import connection_may_sync, connections_pause_without_interface
from integrations.connectors import UnknownSystem, connector_facts, connector_for
from integrations.errors import AuthorizationError, IntegrationError
from integrations.models import (
    OPEN_RUN_STATUSES,
    Connection,
    ConnectionStatus,
    SyncRun,
    SyncRunStatus,
    SyncTrigger,
    Transfer,
    TransferOutcome,
)
from records.services.checks import acting_party
from severa import clock

logger = logging.getLogger(__name__)

# The advisory lock space of sync runs (pg_try_advisory_lock(int, int)).
ADVISORY_LOCK_CLASS = 74_001
# An open run older than this gets its task sent again (sync_runs_resend_stale).
STALE_AFTER = timedelta(minutes=10)
UNFINISHED_OUTCOMES = (
    TransferOutcome.FAILED,
    TransferOutcome.UNVERIFIED,
    TransferOutcome.BLOCKED,
)
# Failed transfers listed in an error e-mail (the run page has them all).
MAIL_FAILURES_LISTED = 20


class RunInProgress(Exception):
    def __init__(self, run: SyncRun | None):
        super().__init__(_("A sync of this connection is queued or running already."))
        self.run = run


def open_run(*, connection: Connection) -> SyncRun | None:
    return SyncRun.objects.filter(connection=connection, status__in=OPEN_RUN_STATUSES).first()


def _enqueue(run: SyncRun) -> None:
    # Imported here: the task module imports this one (its task runs the service below).
    from integrations.tasks import sync_run_execute

    transaction.on_commit(
        lambda: sync_run_execute.delay(tenant_id=run.tenant_id, syncrun_id=run.pk)
    )


def sync_run_start(*, connection: Connection, trigger: str, actor: User | None) -> SyncRun:
    """Queue a run of `connection`; ValidationError when it is not active, RunInProgress
    when a run is queued or running already."""
    if connection.status != ConnectionStatus.ACTIVE:
        raise ValidationError(_("Only an active connection can sync."))
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                tenant_id=connection.tenant_id,
                connection=connection,
                trigger=trigger,
                requested_by=actor,
                changed_since=connection.last_synced_at,
                created_at=clock.now(),
            )
            _enqueue(run)
    except IntegrityError:
        raise RunInProgress(open_run(connection=connection)) from None
    return run


@contextmanager
def _run_lock(run_id: int) -> Iterator[bool]:
    """Hold the run's session-level advisory lock (released on disconnect, so a killed
    worker never keeps it)."""
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, run_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, run_id])


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = clock.now()
    run.save(
        update_fields=[
            "status",
            "error",
            "finished_at",
            "counts",
            "progress_done",
            "progress_total",
        ]
    )


def sync_run_execute(*, run: SyncRun) -> SyncRun:
    """Run `run` (queued, or running when its worker died and the message came again);
    returns it finished. A run another worker is executing is left alone."""
    with _run_lock(run.pk) as acquired:
        if not acquired:
            return run
        run = SyncRun.objects.select_related("connection", "connection__tenant").get(pk=run.pk)
        if run.status not in OPEN_RUN_STATUSES:
            return run
        # What the run writes for people to read (reasons, errors) is in the company's
        # language, like its e-mails.
        with translation.override(run.connection.tenant.language or settings.LANGUAGE_CODE):
            _execute(run)
    return run


def _execute(run: SyncRun) -> None:
    connection = run.connection
    if run.status == SyncRunStatus.QUEUED:
        run.status = SyncRunStatus.RUNNING
        run.started_at = clock.now()
        run.save(update_fields=["status", "started_at"])
    if not connection_may_sync(connection=connection):
        _finish(
            run,
            SyncRunStatus.FAILED,
            connection.status_reason or _("The connection is not active."),
        )
        return
    try:
        # Records the sync writes are audited with the connection as the acting party.
        with acting_party(f"integration:{connection.system}:{connection.pk}"):
            connector_for(connection.system).run_sync(run)
    except AuthorizationError as error:
        _finish(run, SyncRunStatus.FAILED, str(error))
    except IntegrationError as error:
        _finish(run, SyncRunStatus.FAILED, str(error))
    except Exception as error:
        logger.exception("Sync run %s of connection %s failed", run.pk, connection.pk)
        _finish(run, SyncRunStatus.FAILED, f"{type(error).__name__}: {error}")
    else:
        # Failed and unverified records, and blocked entity types, are not done: the
        # run is partial, and they are tried again by the next run.
        unfinished = run.transfers.filter(outcome__in=UNFINISHED_OUTCOMES).exists()
        _finish(run, SyncRunStatus.PARTIAL if unfinished else SyncRunStatus.SUCCEEDED)
        if not unfinished:
            # The next run reads what changed since this one started; a partial run
            # does not move it, so its failed records are read (and tried) again
            # (each entity type also keeps its own start: integrations/engine.py).
            Connection.objects.filter(pk=connection.pk).update(last_synced_at=run.started_at)
    # A blocked entity type is e-mailed once, when it is blocked (engine.entity_block),
    # not by every run.
    if (
        run.status == SyncRunStatus.FAILED
        or run.transfers.filter(outcome=TransferOutcome.FAILED).exists()
    ):
        sync_run_failures_mail(run=run)


def sync_run_failures_mail(*, run: SyncRun) -> list[str]:
    """E-mail the connection's error addresses about a failed or partly failed run."""
    connection = run.connection
    recipients = list(connection.error_emails or [])
    if not recipients:
        return []
    facts = connector_facts(connection.system)
    failures = [
        {
            "entity_type": t.entity_type,
            "entity_name": facts.entity_name(t.entity_type),
            "label": t.label,
            "reason": t.reason,
        }
        for t in Transfer.objects.filter(run=run, outcome=TransferOutcome.FAILED)[
            :MAIL_FAILURES_LISTED
        ]
    ]
    mail_enqueue(
        to=recipients,
        template="integration_failures",
        context={
            "tenant": connection.tenant.name,
            "system": str(connection.get_system_display()),
            "run_id": run.pk,
            "status": str(run.get_status_display()),
            "error": run.error,
            "failed_count": run.counts.get(TransferOutcome.FAILED, 0),
            "failures": failures,
            "path": reverse(
                "tenant_integration_run",
                kwargs={
                    "tenant_id": run.tenant_id,
                    "connection_id": connection.pk,
                    "syncrun_id": run.pk,
                },
            ),
        },
        language=connection.tenant.language,
        tenant=connection.tenant,
        dedupe_key=f"integration_failures:{run.pk}",
    )
    return recipients


def sync_runs_queue() -> int:
    """Celery beat: pause the connections whose interface is gone, send again the runs left
    open too long, then queue a scheduled run for every active connection without an open
    run; returns how many were queued."""
    connections_pause_without_interface()
    sync_runs_resend_stale()
    queued = 0
    with scopes_disabled():
        active = list(
            Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(
                runs__status__in=OPEN_RUN_STATUSES
            )
        )
    for connection in active:
        if not _schedule_due(connection):
            continue
        with scope(tenant=connection.tenant_id):
            try:
                sync_run_start(connection=connection, trigger=SyncTrigger.SCHEDULED, actor=None)
            except (RunInProgress, ValidationError):
                continue
            queued += 1
    return queued


def _schedule_due(connection: Connection) -> bool:
    """Whether the schedule may queue a run of `connection` now: a connector may declare a
    longest rhythm of its own (`schedule_interval`: Visma Global at most hourly, beside
    *Sync now*)."""
    try:
        interval = getattr(connector_for(connection.system), "schedule_interval", None)
    except UnknownSystem:
        return True
    if not interval:
        return True
    with scopes_disabled():
        return not SyncRun.objects.filter(
            connection=connection, created_at__gt=clock.now() - interval
        ).exists()


def sync_runs_resend_stale() -> int:
    """Send the task again for runs open longer than STALE_AFTER: a message lost between
    the commit and the broker, or a worker that died mid-run, would otherwise keep the
    connection's one open run forever. A run still executing holds its advisory lock, so
    the extra message does nothing."""
    with scopes_disabled():
        stale = list(
            SyncRun.objects.filter(
                status__in=OPEN_RUN_STATUSES, created_at__lt=clock.now() - STALE_AFTER
            )
        )
    for run in stale:
        _enqueue(run)
    return len(stale)
