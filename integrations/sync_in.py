"""The accounting system → Severa, for one entity type of a run: match by number/code
before creating, and apply updates only from the master (integrations/engine.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord, names_match
from integrations.models import EntityMap, Master, TransferDirection, TransferOutcome
from integrations.sync_base import UNCHANGED, EntityBase


class ToLocal(EntityBase):
    def to_local(self, remotes: list[RemoteRecord]) -> None:
        for remote in remotes:
            self.each(TransferDirection.TO_LOCAL, remote, self.remote_one, remote_id=remote.id)

    def remote_one(self, remote: RemoteRecord) -> None:
        direction = TransferDirection.TO_LOCAL
        entity_map = self.maps.filter(remote_id=remote.id).first()
        if entity_map is not None:
            self.remote_paired(entity_map, remote)
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
            self.remote_found(found, remote)
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

    def remote_paired(self, entity_map: EntityMap, remote: RemoteRecord) -> None:
        """A remote record paired already: apply its change when the remote system is master."""
        direction = TransferDirection.TO_LOCAL
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

    def remote_found(self, found: LocalRecord, remote: RemoteRecord) -> None:
        """A new remote record whose number/code a local record has: pair them, unless the
        local one is paired already or the names differ where the adapter says they must."""
        direction = TransferDirection.TO_LOCAL
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
