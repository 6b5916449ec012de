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
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from accounts.mail import mail_enqueue
from integrations.adapters import (
    EntityAdapter,
    LocalRecord,
    RemoteRecord,
    names_match,
)
from integrations.connectors import connector_facts
from integrations.errors import (
    AmbiguousWrite,
    AuthorizationError,
    IntegrationError,
    PermissionMissing,
)
from integrations.facts import DEFAULT_FACTS, SystemFacts
from integrations.models import (
    BlockedEntity,
    Connection,
    EntityMap,
    Master,
    SyncRun,
    Transfer,
    TransferDirection,
    TransferOutcome,
)
from severa import clock

logger = logging.getLogger(__name__)

# Read a little more than "since the last run": clocks of two systems never agree exactly
# (and Fortnox's lastmodified filter has minute precision).
SINCE_OVERLAP = timedelta(minutes=5)
# A blocked entity type is tried again after this long (or at once after re-authorisation).
BLOCKED_RETRY = timedelta(days=1)
# Progress is written at most this often (seconds) while a run goes on.
PROGRESS_INTERVAL = 1.0
UNCHANGED = "unchanged"
COUNT_KEYS = (*TransferOutcome.values, UNCHANGED)


def entity_reference(run: SyncRun, entity_type: str, local_id: int) -> str:
    """The deterministic external reference of a local record at a connection."""
    return f"severa-{run.connection_id}-{entity_type}-{local_id}"


def entity_since(run: SyncRun, entity_type: str) -> datetime | None:
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


class _Progress:
    def __init__(self, run: SyncRun):
        self.run = run
        self.counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
        self.written_at = 0.0

    def add_total(self, amount: int) -> None:
        self.run.progress_total += amount
        self.flush(force=True)

    def record(self, outcome: str) -> None:
        self.counts[outcome] += 1
        self.run.progress_done += 1
        self.flush()

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.written_at < PROGRESS_INTERVAL:
            return
        self.written_at = now
        self.run.counts = dict(self.counts)
        SyncRun.objects.filter(pk=self.run.pk).update(
            progress_done=self.run.progress_done,
            progress_total=self.run.progress_total,
            counts=self.run.counts,
        )


class _EntitySync:
    """One entity type of one run."""

    def __init__(
        self,
        run: SyncRun,
        adapter: EntityAdapter,
        progress: _Progress,
        facts: SystemFacts = DEFAULT_FACTS,
    ):
        self.run = run
        self.adapter = adapter
        self.progress = progress
        self.facts = facts
        self.policy = facts.lookup
        # Records of this entity type that failed or stay unverified in this run.
        self.troubles = 0
        # Seconds slept for in-run look-ups (LookupPolicy.in_run_budget).
        self.waited = 0.0
        self.entity_type = adapter.entity_type
        self.master = run.connection.master_for(adapter.entity_type)
        self.maps = EntityMap.objects.filter(
            connection_id=run.connection_id, entity_type=adapter.entity_type
        )

    # Logging ----------------------------------------------------------------------------

    def log(
        self,
        direction: str,
        outcome: str,
        *,
        label: str,
        local_id: int | None = None,
        remote_id: str = "",
        reason: str = "",
    ) -> None:
        Transfer.objects.create(
            tenant_id=self.run.tenant_id,
            run=self.run,
            entity_type=self.entity_type,
            direction=direction,
            local_id=local_id,
            remote_id=remote_id or "",
            label=label[:300],
            outcome=outcome,
            reason=reason,
            created_at=clock.now(),
        )
        if outcome in (TransferOutcome.FAILED, TransferOutcome.UNVERIFIED):
            self.troubles += 1
        self.progress.record(outcome)

    def pair(
        self,
        entity_map: EntityMap | None,
        *,
        local: LocalRecord,
        remote: RemoteRecord,
        reference: str = "",
    ) -> EntityMap:
        """Record that `local` and `remote` are one record as both sides now hold it."""
        now = clock.now()
        if entity_map is None:
            entity_map = EntityMap(
                tenant_id=self.run.tenant_id,
                connection_id=self.run.connection_id,
                entity_type=self.entity_type,
                local_id=local.id,
                reference=reference or entity_reference(self.run, self.entity_type, local.id),
                created_at=now,
            )
        entity_map.remote_id = remote.id
        entity_map.local_updated_at = local.updated_at
        entity_map.remote_hash = remote.fingerprint
        entity_map.unverified_since = None
        entity_map.next_lookup_at = None
        entity_map.lookup_attempts = entity_map.lookups_absent = 0
        entity_map.update_unverified = False
        entity_map.updated_at = now
        entity_map.save()
        return entity_map

    # Severa → remote --------------------------------------------------------------------

    def to_remote(self, locals_: list[LocalRecord]) -> None:
        for local in locals_:
            self.each(TransferDirection.TO_REMOTE, local, self.local_one, local_id=local.id)

    def each(
        self,
        direction: str,
        record: LocalRecord | RemoteRecord,
        transfer: Callable[[Any], None],
        **ids: Any,
    ) -> None:
        """Transfer one record; a failure of this record is logged and the run goes on (an
        authorisation failure ends the run, a missing permission blocks the entity type)."""
        try:
            transfer(record)
        except (AuthorizationError, PermissionMissing):
            raise
        except IntegrationError as error:
            self.log(
                direction, TransferOutcome.FAILED, label=record.label, reason=str(error), **ids
            )

    def local_one(self, local: LocalRecord) -> None:
        direction = TransferDirection.TO_REMOTE
        entity_map = self.maps.filter(local_id=local.id).first()
        if entity_map is not None and entity_map.remote_id:
            if (
                entity_map.local_updated_at is not None
                and local.updated_at <= entity_map.local_updated_at
            ):
                self.progress.record(UNCHANGED)
                return
            if self.master != Master.SEVERA:
                entity_map.local_updated_at = local.updated_at
                entity_map.save(update_fields=["local_updated_at"])
                self.log(
                    direction,
                    TransferOutcome.SKIPPED,
                    label=local.label,
                    local_id=local.id,
                    remote_id=entity_map.remote_id,
                    reason=_(
                        "The accounting system is master for updates of %(what)s: the "
                        "change made in Severa is not sent."
                    )
                    % {"what": self.facts.entity(self.entity_type).what or self.entity_type},
                )
                return
            reason = self.adapter.local_skip_reason(local)
            if reason:
                self.log(
                    direction,
                    TransferOutcome.SKIPPED,
                    label=local.label,
                    local_id=local.id,
                    remote_id=entity_map.remote_id,
                    reason=reason,
                )
                return
            self.update(local, entity_map)
            return
        # New here (or an intent left without a remote id by an earlier attempt).
        reason = self.adapter.local_skip_reason(local)
        if reason:
            self.log(
                direction,
                TransferOutcome.SKIPPED,
                label=local.label,
                local_id=local.id,
                reason=reason,
            )
            return
        reference = (
            entity_map.reference
            if entity_map is not None
            else entity_reference(self.run, self.entity_type, local.id)
        )
        if entity_map is not None and entity_map.unverified_since is not None:
            self.settle(local, entity_map, reference)
            return
        if self.match_remote(local, entity_map, reference):
            return
        if entity_map is None:
            # The intent, written before the remote call: a crash after the remote system
            # created the record leaves this row, and the next run looks up first.
            now = clock.now()
            entity_map = EntityMap.objects.create(
                tenant_id=self.run.tenant_id,
                connection_id=self.run.connection_id,
                entity_type=self.entity_type,
                local_id=local.id,
                reference=reference,
                created_at=now,
                updated_at=now,
            )
        self.create(local, entity_map, reference)

    def create(self, local: LocalRecord, entity_map: EntityMap, reference: str) -> None:
        try:
            remote = self.adapter.create_remote(local, reference)
        except AmbiguousWrite as error:
            logger.info("Unclear create of %s %s: %s", self.entity_type, local.id, error)
            now = clock.now()
            entity_map.unverified_since = now
            entity_map.lookup_attempts = entity_map.lookups_absent = 0
            entity_map.next_lookup_at = now + self.policy.delay(0)
            entity_map.updated_at = now
            entity_map.save()
            self.settle(local, entity_map, reference, in_run=True)
            return
        with transaction.atomic():
            self.pair(entity_map, local=local, remote=remote)
            self.log(
                TransferDirection.TO_REMOTE,
                TransferOutcome.CREATED,
                label=local.label,
                local_id=local.id,
                remote_id=remote.id,
                reason=self.note(local),
            )

    def note(self, local: LocalRecord) -> str:
        """What the adapter has to say about a record it has just written (its optional
        `transfer_note(local)`, e.g. a Visma.net subaccount segment left empty), for the log."""
        transfer_note = getattr(self.adapter, "transfer_note", None)
        return (transfer_note(local) or "") if transfer_note is not None else ""

    def lookup(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        """Ask the remote system by the record's marker (never a cached listing)."""
        lookup_remote = getattr(self.adapter, "lookup_remote", None) or self.adapter.find_remote
        return lookup_remote(local, reference)

    def settle(
        self, local: LocalRecord, entity_map: EntityMap, reference: str, *, in_run: bool = False
    ) -> None:
        """Resolve an unverified create: look it up when a look-up is due (after the
        policy's in-run delays right after the unclear write), pair it when found, create it
        again once the policy is sure it is not there; otherwise log it as unverified."""
        direction = TransferDirection.TO_REMOTE
        policy = self.policy
        while True:
            due = entity_map.next_lookup_at
            if not in_run and due is not None and due > clock.now():
                break
            if in_run:
                pause = policy.delay(entity_map.lookup_attempts).total_seconds()
                if self.waited + pause > policy.in_run_budget:
                    break
                self.waited += pause
                time.sleep(pause)
            found = self.lookup(local, reference)
            entity_map.lookup_attempts += 1
            if found is not None:
                with transaction.atomic():
                    self.pair(entity_map, local=local, remote=found)
                    self.log(
                        direction,
                        TransferOutcome.CREATED,
                        label=local.label,
                        local_id=local.id,
                        remote_id=found.id,
                        reason=_("Found by look-up after an unclear answer to the create."),
                    )
                return
            now = clock.now()
            if entity_map.unverified_since is not None and (
                now - entity_map.unverified_since >= policy.settle
            ):
                entity_map.lookups_absent += 1
            if entity_map.lookups_absent >= policy.absent_needed:
                # Sure enough that the unclear create never happened: create it again.
                entity_map.unverified_since = entity_map.next_lookup_at = None
                entity_map.lookup_attempts = entity_map.lookups_absent = 0
                entity_map.updated_at = now
                entity_map.save()
                self.create(local, entity_map, reference)
                return
            entity_map.next_lookup_at = now + policy.delay(entity_map.lookup_attempts)
            entity_map.updated_at = now
            entity_map.save()
            if not in_run or entity_map.lookup_attempts >= len(policy.delays):
                break
        self.log(
            direction,
            TransferOutcome.UNVERIFIED,
            label=local.label,
            local_id=local.id,
            reason=_(
                "The create was sent but its outcome is unknown: it is looked up by "
                "%(marker)s again from %(when)s and created again only when it is surely "
                "not there."
            )
            % {
                "marker": self.facts.entity(self.entity_type).marker or _("its number/code"),
                "when": localtime(entity_map.next_lookup_at).strftime("%Y-%m-%d %H:%M:%S")
                if entity_map.next_lookup_at
                else "—",
            },
        )

    def update(self, local: LocalRecord, entity_map: EntityMap) -> None:
        """Send the local record's changes; after an update whose outcome stayed unknown,
        read the remote record first and write only if the change did not land."""
        direction = TransferDirection.TO_REMOTE
        remote_id = entity_map.remote_id or ""
        read_remote = getattr(self.adapter, "read_remote", None)
        if entity_map.update_unverified and read_remote is not None:
            current = read_remote(remote_id)
            if current is not None and self.adapter.remote_is_current(local, current):
                with transaction.atomic():
                    self.pair(entity_map, local=local, remote=current)
                    self.log(
                        direction,
                        TransferOutcome.UPDATED,
                        label=local.label,
                        local_id=local.id,
                        remote_id=current.id,
                        reason=_("The earlier update had been applied (read back)."),
                    )
                return
        try:
            remote = self.adapter.update_remote(remote_id, local)
        except AmbiguousWrite as error:
            entity_map.update_unverified = True
            entity_map.save(update_fields=["update_unverified"])
            self.log(
                direction,
                TransferOutcome.UNVERIFIED,
                label=local.label,
                local_id=local.id,
                remote_id=remote_id,
                reason=_(
                    "The update was sent but its outcome is unknown (%(error)s): the record "
                    "is read back before it is written again."
                )
                % {"error": error},
            )
            return
        with transaction.atomic():
            self.pair(entity_map, local=local, remote=remote)
            self.log(
                direction,
                TransferOutcome.UPDATED,
                label=local.label,
                local_id=local.id,
                remote_id=remote.id,
                reason=self.note(local),
            )

    def match_remote(
        self, local: LocalRecord, entity_map: EntityMap | None, reference: str
    ) -> bool:
        """Pair `local` with the remote record of its number/code; True when it was
        handled (matched, or failed as a conflict)."""
        direction = TransferDirection.TO_REMOTE
        found = self.adapter.find_remote(local, reference)
        if found is None:
            return False
        if self.maps.filter(remote_id=found.id).exclude(local_id=local.id).exists():
            self.log(
                direction,
                TransferOutcome.FAILED,
                label=local.label,
                local_id=local.id,
                remote_id=found.id,
                reason=f"{found.label} in the accounting system is paired with another "
                "record already.",
            )
            return True
        if not self.adapter.match_key_only and not names_match(local.name, found.name):
            self.log(
                direction,
                TransferOutcome.FAILED,
                label=local.label,
                local_id=local.id,
                remote_id=found.id,
                reason=_(
                    "The number/code %(key)s is used by “%(name)s” in the accounting "
                    "system: give one of them another number/code or the same name."
                )
                % {"key": local.key, "name": found.name},
            )
            return True
        with transaction.atomic():
            self.pair(entity_map, local=local, remote=found, reference=reference)
            self.log(
                direction,
                TransferOutcome.MATCHED,
                label=local.label,
                local_id=local.id,
                remote_id=found.id,
                reason="Paired with the existing record of the same number/code.",
            )
        return True

    # Remote → Severa --------------------------------------------------------------------

    def to_local(self, remotes: list[RemoteRecord]) -> None:
        for remote in remotes:
            self.each(TransferDirection.TO_LOCAL, remote, self.remote_one, remote_id=remote.id)

    def remote_one(self, remote: RemoteRecord) -> None:
        direction = TransferDirection.TO_LOCAL
        entity_map = self.maps.filter(remote_id=remote.id).first()
        if entity_map is not None:
            if entity_map.remote_hash == remote.fingerprint:
                self.progress.record(UNCHANGED)
                return
            if self.master != Master.REMOTE:
                entity_map.remote_hash = remote.fingerprint
                entity_map.save(update_fields=["remote_hash"])
                self.log(
                    direction,
                    TransferOutcome.SKIPPED,
                    label=remote.label,
                    local_id=entity_map.local_id,
                    remote_id=remote.id,
                    reason=_(
                        "Severa is master for updates of %(what)s: the change made in the "
                        "accounting system is not applied."
                    )
                    % {"what": self.facts.entity(self.entity_type).what or self.entity_type},
                )
                return
            reason = self.adapter.remote_skip_reason(remote)
            if reason:
                self.log(
                    direction,
                    TransferOutcome.SKIPPED,
                    label=remote.label,
                    local_id=entity_map.local_id,
                    remote_id=remote.id,
                    reason=reason,
                )
                return
            with transaction.atomic():
                local = self.adapter.update_local(entity_map.local_id, remote)
                self.pair(entity_map, local=local, remote=remote)
                self.log(
                    direction,
                    TransferOutcome.UPDATED,
                    label=remote.label,
                    local_id=local.id,
                    remote_id=remote.id,
                )
            return
        reason = self.adapter.remote_skip_reason(remote)
        if reason:
            self.log(
                direction,
                TransferOutcome.SKIPPED,
                label=remote.label,
                remote_id=remote.id,
                reason=reason,
            )
            return
        found = self.adapter.find_local(remote)
        if found is not None:
            begun = self.maps.filter(local_id=found.id).first()
            if (
                begun is not None
                and begun.remote_id is None
                and begun.unverified_since is not None
                and remote.key == found.key
            ):
                # Our own create whose answer was lost has landed: this is that record.
                with transaction.atomic():
                    self.pair(begun, local=found, remote=remote)
                    self.log(
                        TransferDirection.TO_REMOTE,
                        TransferOutcome.CREATED,
                        label=found.label,
                        local_id=found.id,
                        remote_id=remote.id,
                        reason=_("Found by look-up after an unclear answer to the create."),
                    )
                return
            if begun is not None:
                self.log(
                    direction,
                    TransferOutcome.FAILED,
                    label=remote.label,
                    local_id=found.id,
                    remote_id=remote.id,
                    reason=f"{found.label} in Severa is paired with another record already.",
                )
                return
            if not self.adapter.match_key_only and not names_match(found.name, remote.name):
                self.log(
                    direction,
                    TransferOutcome.FAILED,
                    label=remote.label,
                    local_id=found.id,
                    remote_id=remote.id,
                    reason=_(
                        "The number/code %(key)s is used by “%(name)s” in Severa: give one "
                        "of them another number/code or the same name."
                    )
                    % {"key": remote.key, "name": found.name},
                )
                return
            with transaction.atomic():
                self.pair(None, local=found, remote=remote)
                self.log(
                    direction,
                    TransferOutcome.MATCHED,
                    label=remote.label,
                    local_id=found.id,
                    remote_id=remote.id,
                    reason="Paired with the existing record of the same number/code.",
                )
            return
        with transaction.atomic():
            local = self.adapter.create_local(remote)
            self.pair(None, local=local, remote=remote)
            self.log(
                direction,
                TransferOutcome.CREATED,
                label=remote.label,
                local_id=local.id,
                remote_id=remote.id,
            )


def connection_unverified(connection: Connection) -> list[dict[str, Any]]:
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
    run: SyncRun, adapters: Sequence[EntityAdapter], facts: SystemFacts = DEFAULT_FACTS
) -> dict[str, int]:
    """Sync each entity type of `adapters` in order (dependencies first: units and products
    before invoices, customers before projects); returns the counts per outcome, also kept
    on the run. An entity type the remote system refuses for a missing permission is
    blocked and the others go on."""
    progress = _Progress(run)
    for adapter in adapters:
        entity = _EntitySync(run, adapter, progress, facts)
        with entity_guard(run, adapter.entity_type, facts, progress) as allowed:
            if allowed:
                _sync_entity(run, entity, adapter)
                if entity.troubles == 0:
                    entity_synced(run, adapter.entity_type)
    progress.flush(force=True)
    return dict(progress.counts)


def _sync_entity(run: SyncRun, entity: _EntitySync, adapter: EntityAdapter) -> None:
    progress = entity.progress
    since = entity_since(run, adapter.entity_type)
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


def entity_synced(run: SyncRun, entity_type: str) -> None:
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
        progress: _Progress | None = None,
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
        self.allowed = self.blocked is None or blocked_retry_due(self.blocked, run.connection)

    def __enter__(self) -> bool:
        if not self.allowed and not self.quiet and self.blocked is not None:
            _log_blocked(self.run, self.entity_type, self.blocked.reason, self.facts, self.progress)
        return self.allowed

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, PermissionMissing):
            entity_block(self.run, self.entity_type, error, self.facts, self.progress)
            return True
        if error is None and self.allowed and self.blocked is not None:
            self.blocked.delete()
        return False


def blocked_retry_due(blocked: BlockedEntity, connection: Connection) -> bool:
    """A blocked entity type is tried again once a day, and at once after the connection
    was authorised again."""
    if connection.authorized_at is not None and connection.authorized_at > blocked.tried_at:
        return True
    return clock.now() - blocked.tried_at >= BLOCKED_RETRY


def blocked_reason(facts: SystemFacts, entity_type: str) -> str:
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
    progress: _Progress | None,
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
    run: SyncRun,
    entity_type: str,
    error: PermissionMissing,
    facts: SystemFacts,
    progress: _Progress | None = None,
) -> BlockedEntity:
    """Block `entity_type` of the run's connection for a missing permission; e-mail the
    connection's error addresses when the block is new (not again while it stays)."""
    now = clock.now()
    reason = blocked_reason(facts, entity_type)
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
    )
