"""Severa → the accounting system, for one entity type of a run: look up before create,
settle unclear creates, read back unclear updates (integrations/engine.py has the rules)."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord, names_match
from integrations.errors import AmbiguousWrite
from integrations.models import EntityMap, Master, TransferDirection, TransferOutcome
from integrations.sync_base import UNCHANGED, EntityBase, entity_reference
from severa import clock

logger = logging.getLogger(__name__)


class ToRemote(EntityBase):
    def to_remote(self, locals_: list[LocalRecord]) -> None:
        for local in locals_:
            self.each(TransferDirection.TO_REMOTE, local, self.local_one, local_id=local.id)

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
