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
- **Incremental.** Each side is read for what changed since the last successful run (with a
  few minutes' overlap against clock skew). Re-reading is harmless: a record whose
  `updated_at` (local) or content hash (remote) is the one the map recorded has not changed,
  and nothing is written for it. So a second run with no changes makes no write request.
- **Look up before create.** The intent to create a remote record is written first (an
  entity map row without remote id, with a deterministic reference). When a create fails
  ambiguously (`AmbiguousWrite`: timed out or 5xx after sending) the engine looks the record
  up by its number/code and reference before creating it again, and the next run does the
  same for an intent left without a remote id.
- **Logged.** Every record that was created, updated, matched, skipped or failed gets a
  `Transfer` row with the reason; unchanged records are only counted.

Retries of single requests (429, 5xx, timeouts) belong to the connector's client; a record
whose request still fails is logged as failed and the run goes on. `AuthorizationError`
stops the run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from integrations.adapters import (
    EntityAdapter,
    LocalRecord,
    RemoteRecord,
    names_match,
)
from integrations.errors import AmbiguousWrite, AuthorizationError, IntegrationError
from integrations.models import (
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
# Create attempts of one record in one run, each after a look-up.
CREATE_ATTEMPTS = 2
# Progress is written at most this often (seconds) while a run goes on.
PROGRESS_INTERVAL = 1.0
UNCHANGED = "unchanged"
COUNT_KEYS = (*TransferOutcome.values, UNCHANGED)


def entity_reference(run: SyncRun, entity_type: str, local_id: int) -> str:
    """The deterministic external reference of a local record at a connection."""
    return f"severa-{run.connection_id}-{entity_type}-{local_id}"


def entity_since(run: SyncRun, entity_type: str) -> datetime | None:
    """From when `entity_type` is read in `run`: since the last successful run (minus the
    overlap); on the first run everything, except customers, which are read from the
    activation on unless the tenant chose "transfer all existing customers"."""
    since = run.changed_since
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

    def __init__(self, run: SyncRun, adapter: EntityAdapter, progress: _Progress):
        self.run = run
        self.adapter = adapter
        self.progress = progress
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
        authorisation failure ends the run)."""
        try:
            transfer(record)
        except AuthorizationError:
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
                    reason=f"The accounting system is master for {self.entity_type} "
                    "updates: the change made in Severa is not sent.",
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
            remote = self.adapter.update_remote(entity_map.remote_id, local)
            with transaction.atomic():
                self.pair(entity_map, local=local, remote=remote)
                self.log(
                    direction,
                    TransferOutcome.UPDATED,
                    label=local.label,
                    local_id=local.id,
                    remote_id=remote.id,
                )
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
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                remote = self.adapter.create_remote(local, reference)
            except AmbiguousWrite as error:
                logger.info("Ambiguous create of %s %s: %s", self.entity_type, local.id, error)
                # It may exist now: look it up before trying again.
                found = self.adapter.find_remote(local, reference)
                if found is not None:
                    with transaction.atomic():
                        self.pair(entity_map, local=local, remote=found)
                        self.log(
                            direction,
                            TransferOutcome.CREATED,
                            label=local.label,
                            local_id=local.id,
                            remote_id=found.id,
                            reason="Found by look-up after an unclear answer to the create.",
                        )
                    return
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            with transaction.atomic():
                self.pair(entity_map, local=local, remote=remote)
                self.log(
                    direction,
                    TransferOutcome.CREATED,
                    label=local.label,
                    local_id=local.id,
                    remote_id=remote.id,
                )
            return

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
                reason=f"The number/code {local.key} is used by “{found.name}” in the "
                "accounting system: give one of them another number/code or the "
                "same name.",
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
                    reason=f"Severa is master for {self.entity_type} updates: the change "
                    "made in the accounting system is not applied.",
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
            if self.maps.filter(local_id=found.id).exists():
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
                    reason=f"The number/code {remote.key} is used by “{found.name}” in "
                    "Severa: give one of them another number/code or the same name.",
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


def sync_entities(run: SyncRun, adapters: Sequence[EntityAdapter]) -> dict[str, int]:
    """Sync each entity type of `adapters` in order (dependencies first: units and products
    before invoices, customers before projects); returns the counts per outcome, also kept
    on the run."""
    progress = _Progress(run)
    for adapter in adapters:
        entity = _EntitySync(run, adapter, progress)
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
    progress.flush(force=True)
    return dict(progress.counts)


def _pending_locals(adapter: EntityAdapter, local_ids: set[int]) -> list[LocalRecord]:
    return [local for local in adapter.local_changed_since(None) if local.id in local_ids]
