"""One entity type of one sync run: its log of transfers, its pairings and its progress
(the engine's rules are in integrations/engine.py; the two directions in
integrations/sync_out.py and integrations/sync_in.py)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from integrations.adapters import EntityAdapter, LocalRecord, RemoteRecord
from integrations.errors import AuthorizationError, IntegrationError, PermissionMissing
from integrations.facts import DEFAULT_FACTS, SystemFacts
from integrations.models import EntityMap, SyncRun, Transfer, TransferOutcome
from severa import clock

# Progress is written at most this often (seconds) while a run goes on.
PROGRESS_INTERVAL = 1.0
UNCHANGED = "unchanged"
COUNT_KEYS = (*TransferOutcome.values, UNCHANGED)


def entity_reference(run: SyncRun, entity_type: str, local_id: int) -> str:
    """The deterministic external reference of a local record at a connection."""
    return f"severa-{run.connection_id}-{entity_type}-{local_id}"


class Progress:
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


class EntityBase:
    """One entity type of one run."""

    def __init__(
        self,
        run: SyncRun,
        adapter: EntityAdapter,
        progress: Progress,
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
