"""The sync engine, shared by every accounting system (DESIGN §3.9).

A connector hands `sync_entities` one adapter per entity type (customers, products,
projects, …). An adapter knows how to read and write its records on both sides; the engine
decides what to do with each record, the same way for every system:

- **Pairing.** `EntityMap` pairs each local record with its remote twin. A record met for
  the first time is matched to an existing record of the other side by number/code (and
  name, where the adapter says so) before anything is created; a number taken by a record
  of another name is a conflict the tenant resolves, never a second record.
- **Master rules.** New records flow both ways, whichever system is master. Updates flow
  only from the master (`Connection.master_for`); a change on the other side is logged as
  skipped. An adapter may work in one direction only (projects: Severa → remote).
- **Incremental.** Each side is read for what changed since the last run that transferred
  that entity type without failures (with a few minutes' overlap against clock skew).
  Re-reading is harmless: a record whose
  `updated_at` (local) or content hash (remote) is the one the map recorded has not changed,
  and nothing is written for it. So a second run with no changes makes no write request.
- **Look up before create; never a duplicate.** The intent to create a remote record is
  written first (an entity map row without remote id, with a deterministic reference). When
  a create's outcome is unknown (`AmbiguousWrite`: timed out, connection reset or 5xx after
  sending) the record is *unverified*: it is looked up by its marker (the connector's
  `SystemFacts`: Fortnox's customer number, article number, `ExternalInvoiceReference1`)
  after each of the policy's in-run delays, then once per run after a doubling delay. It
  is created again only after enough look-ups made after the settling time answered "not
  there" (`LookupPolicy`), so a system that commits a write after our timeout never gets it
  twice. Until then each run logs it as unverified, not done.
- **Updates with unknown outcome** mark the pairing; the next attempt reads the remote
  record first and writes only if the earlier update did not land.
- **A missing permission blocks one entity type.** `PermissionMissing` (a scope, licence or
  module the connection lacks) blocks that entity type with the reason in words; the run
  goes on with the others. A blocked entity type is tried again once a day, or at once
  after the connection is authorised again; each new block is e-mailed once.
- **Logged.** Every record that was created, updated, matched, skipped or failed gets a
  `Transfer` row with the reason; unchanged records are only counted.

Retries of single requests (429, 5xx, timeouts) belong to the connector's client; a record
whose request still fails is logged as failed and the run goes on. `AuthorizationError`
stops the run.

In-run look-up delays use the real clock (`time.sleep`); scheduling across runs uses
`severa.clock`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.mail import mail_enqueue
from integrations.adapters import EntityAdapter, LocalRecord
from integrations.connectors import connector_facts
from integrations.errors import PermissionMissing
from integrations.facts import DEFAULT_FACTS, SystemFacts
from integrations.models import (
    BlockedEntity,
    Connection,
    EntityMap,
    SyncRun,
    Transfer,
    TransferDirection,
    TransferOutcome,
)
from integrations.sync_base import Progress
from integrations.sync_in import ToLocal
from integrations.sync_out import ToRemote
from severa import clock

logger = logging.getLogger(__name__)

# Read a little more than "since the last run": clocks of two systems never agree exactly
# (and Fortnox's lastmodified filter has minute precision).
SINCE_OVERLAP = timedelta(minutes=5)
# A blocked entity type is tried again after this long (or at once after re-authorisation).
BLOCKED_RETRY = timedelta(days=1)


def entity_since(*, run: SyncRun, entity_type: str) -> datetime | None:
    """From when `entity_type` is read in `run`: since the last run that transferred it
    without failures (minus the overlap); on the first run everything, except customers,
    which are read from the activation on unless the tenant chose "transfer all existing
    customers"."""
    mark = (run.connection.entity_synced_at or {}).get(entity_type)
    since = datetime.fromisoformat(mark) if mark else run.changed_since
    if since is None:
        connection = run.connection
        if entity_type == "customer" and not connection.transfer_all_customers:
            return connection.activated_at
        return None
    return since - SINCE_OVERLAP


class EntitySync(ToRemote, ToLocal):
    """One entity type of one run, both ways."""


def connection_unverified(*, connection: Connection) -> list[dict[str, Any]]:
    """The records of `connection` whose create or update is unverified, each with its label
    as last logged and when it is looked up next (the connection page lists them)."""

    rows = []
    facts = connector_facts(connection.system)
    maps = EntityMap.objects.filter(connection=connection).filter(
        Q(unverified_since__isnull=False) | Q(update_unverified=True)
    )
    for entity_map in maps.order_by("entity_type", "local_id"):
        transfer = (
            Transfer.objects.filter(
                run__connection=connection,
                entity_type=entity_map.entity_type,
                local_id=entity_map.local_id,
            )
            .order_by("-id")
            .first()
        )
        rows.append(
            {
                "entity_type": entity_map.entity_type,
                "entity_name": facts.entity_name(entity_map.entity_type),
                "label": transfer.label if transfer else str(entity_map.local_id),
                "since": entity_map.unverified_since or entity_map.updated_at,
                "next_lookup_at": entity_map.next_lookup_at,
                "is_update": entity_map.update_unverified,
            }
        )
    return rows


def sync_entities(
    *, run: SyncRun, adapters: Sequence[EntityAdapter], facts: SystemFacts = DEFAULT_FACTS
) -> dict[str, int]:
    """Sync each entity type of `adapters` in order (dependencies first: units and products
    before invoices, customers before projects); returns the counts per outcome, also kept
    on the run. An entity type the remote system refuses for a missing permission is
    blocked and the others go on."""
    progress = Progress(run)
    for adapter in adapters:
        entity = EntitySync(run, adapter, progress, facts)
        with entity_guard(run, adapter.entity_type, facts, progress) as allowed:
            if allowed:
                _sync_entity(run, entity, adapter)
                if entity.troubles == 0:
                    entity_synced(run=run, entity_type=adapter.entity_type)
    progress.flush(force=True)
    return dict(progress.counts)


def _sync_entity(run: SyncRun, entity: EntitySync, adapter: EntityAdapter) -> None:
    progress = entity.progress
    since = entity_since(run=run, entity_type=adapter.entity_type)
    to_remote = TransferDirection.TO_REMOTE in adapter.directions
    to_local = TransferDirection.TO_LOCAL in adapter.directions
    locals_ = list(adapter.local_changed_since(since)) if to_remote else []
    # Retry what an earlier run meant to create but never confirmed.
    pending = entity.maps.filter(remote_id__isnull=True).exclude(
        local_id__in=[local.id for local in locals_]
    )
    if to_remote and pending.exists():
        locals_ += _pending_locals(adapter, set(pending.values_list("local_id", flat=True)))
    progress.add_total(len(locals_))
    entity.to_remote(locals_)
    if to_local:
        remotes = list(adapter.list_remote(since))
        progress.add_total(len(remotes))
        entity.to_local(remotes)


def _pending_locals(adapter: EntityAdapter, local_ids: set[int]) -> list[LocalRecord]:
    return [local for local in adapter.local_changed_since(None) if local.id in local_ids]


def entity_synced(*, run: SyncRun, entity_type: str) -> None:
    """`entity_type` was transferred without failures in `run`: its next run reads what
    changed since this one started."""
    started = run.started_at or run.created_at
    connection = run.connection
    marks = dict(connection.entity_synced_at or {})
    marks[entity_type] = started.isoformat()
    connection.entity_synced_at = marks
    Connection.objects.filter(pk=connection.pk).update(entity_synced_at=marks)


class entity_guard:  # noqa: N801 (used as a context manager, like contextlib's)
    """Run one entity type's work unless it is blocked (tried again once a day, or at once
    after re-authorisation); a `PermissionMissing` inside blocks it (and is swallowed), a
    success unblocks it.

        with entity_guard(run, "invoice", facts) as allowed:
            if allowed:
                ...
    """

    def __init__(
        self,
        run: SyncRun,
        entity_type: str,
        facts: SystemFacts,
        progress: Progress | None = None,
        *,
        quiet: bool = False,
    ):
        self.run = run
        self.entity_type = entity_type
        self.facts = facts
        self.progress = progress
        # quiet: a later step of an entity type the run has met already (not logged again).
        self.quiet = quiet
        self.blocked = BlockedEntity.objects.filter(
            connection_id=run.connection_id, entity_type=entity_type
        ).first()
        self.allowed = self.blocked is None or blocked_retry_due(
            blocked=self.blocked, connection=run.connection
        )

    def __enter__(self) -> bool:
        if not self.allowed and not self.quiet and self.blocked is not None:
            _log_blocked(self.run, self.entity_type, self.blocked.reason, self.facts, self.progress)
        return self.allowed

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, PermissionMissing):
            entity_block(
                run=self.run,
                entity_type=self.entity_type,
                error=error,
                facts=self.facts,
                progress=self.progress,
            )
            return True
        if error is None and self.allowed and self.blocked is not None:
            self.blocked.delete()
        return False


def blocked_retry_due(*, blocked: BlockedEntity, connection: Connection) -> bool:
    """A blocked entity type is tried again once a day, and at once after the connection
    was authorised again."""
    if connection.authorized_at is not None and connection.authorized_at > blocked.tried_at:
        return True
    return clock.now() - blocked.tried_at >= BLOCKED_RETRY


def blocked_reason(*, facts: SystemFacts, entity_type: str) -> str:
    entity = facts.entity(entity_type)
    return _(
        "%(system)s: the %(module)s module is not licensed or not authorised for this "
        "connection; %(what)s are not transferred."
    ) % {
        "system": facts.name or _("The accounting system"),
        "module": entity.module or entity_type,
        "what": entity.what or entity_type,
    }


def _log_blocked(
    run: SyncRun,
    entity_type: str,
    reason: str,
    facts: SystemFacts,
    progress: Progress | None,
) -> None:
    directions = facts.entity(entity_type).directions
    Transfer.objects.create(
        tenant_id=run.tenant_id,
        run=run,
        entity_type=entity_type,
        direction=TransferDirection.TO_REMOTE
        if TransferDirection.TO_REMOTE in directions
        else TransferDirection.TO_LOCAL,
        label=entity_type,
        outcome=TransferOutcome.BLOCKED,
        reason=reason,
        created_at=clock.now(),
    )
    if progress is not None:
        progress.counts[TransferOutcome.BLOCKED] += 1
    else:
        counts = dict(run.counts or {})
        counts[TransferOutcome.BLOCKED] = counts.get(TransferOutcome.BLOCKED, 0) + 1
        run.counts = counts


def entity_block(
    *,
    run: SyncRun,
    entity_type: str,
    error: PermissionMissing,
    facts: SystemFacts,
    progress: Progress | None = None,
) -> BlockedEntity:
    """Block `entity_type` of the run's connection for a missing permission; e-mail the
    connection's error addresses when the block is new (not again while it stays)."""
    now = clock.now()
    reason = blocked_reason(facts=facts, entity_type=entity_type)
    blocked, created = BlockedEntity.objects.get_or_create(
        connection_id=run.connection_id,
        entity_type=entity_type,
        defaults={
            "tenant_id": run.tenant_id,
            "reason": reason,
            "remote_message": str(error),
            "blocked_at": now,
            "tried_at": now,
        },
    )
    if not created:
        blocked.tried_at = now
        blocked.reason = reason
        blocked.remote_message = str(error)
        blocked.save(update_fields=["tried_at", "reason", "remote_message"])
    logger.info("Blocked %s of connection %s: %s", entity_type, run.connection_id, error)
    _log_blocked(run, entity_type, f"{reason} ({error})", facts, progress)
    if blocked.mailed_at is None:
        _mail_blocked(run, blocked)
        blocked.mailed_at = now
        blocked.save(update_fields=["mailed_at"])
    return blocked


def _mail_blocked(run: SyncRun, blocked: BlockedEntity) -> None:

    connection = run.connection
    recipients = list(connection.error_emails or [])
    if not recipients:
        return
    mail_enqueue(
        to=recipients,
        template="integration_blocked",
        context={
            "tenant": connection.tenant.name,
            "system": str(connection.get_system_display()),
            "reason": blocked.reason,
            "remote_message": blocked.remote_message,
            "path": reverse(
                "tenant_integration",
                kwargs={"tenant_id": run.tenant_id, "connection_id": connection.pk},
            ),
        },
        language=connection.tenant.language,
        tenant=connection.tenant,
    )
