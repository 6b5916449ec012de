"""What every adapter of this system shares: the run's context, helpers and the adapter base."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.facts import BOTH, SystemFacts
from integrations.models import Connection, EntityMap, Master, SyncRun, Transfer
from integrations.vismanet.client import VismaNetClient
from integrations.vismanet.facts import VISMANET_FACTS
from integrations.vismanet.segments import Segment, dimension_segments, segment_settings
from records.models import SalesStatus
from severa import clock

# Norwegian VAT codes of Visma.net ERP (SAF-T standard codes) by the rate of a sale.
VAT_CODES = {Decimal(25): "3", Decimal(15): "31", Decimal(12): "33", Decimal(0): "5"}
VAT_RATES = {
    "3": Decimal(25),
    "31": Decimal(15),
    "33": Decimal(12),
    "5": Decimal(0),
    "6": Decimal(0),
}
PROJECT_STATUS = {
    SalesStatus.LEAD: "Planned",
    SalesStatus.PROPOSAL: "Planned",
    SalesStatus.WON: "Active",
    SalesStatus.LOST: "Cancelled",
}
# Released supplier invoices (open or paid): their lines no longer change.
RELEASED = frozenset({"Open", "Closed"})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value in (None, "") else Decimal(str(value))


def vat_code(rate: Decimal) -> str | None:
    return VAT_CODES.get(Decimal(rate).normalize() if rate else Decimal(0))


class VismaNetContext:
    """What the adapters of one run share: the run, its connection, the client, the
    pairings of other entity types, and the SUBACCOUNT segments (read once)."""

    def __init__(self, run: SyncRun, client: VismaNetClient, facts: SystemFacts = VISMANET_FACTS):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self._segments: dict[int, Segment] | None = None

    def segments(self) -> dict[int, Segment]:
        if self._segments is None:
            settings = segment_settings(connection=self.connection)
            picked = (
                settings.department_segment is not None or settings.cost_centre_segment is not None
            )
            self._segments = (
                dimension_segments(dimension=self.client.subaccount_dimension()) if picked else {}
            )
        return self._segments

    def remote_id(self, entity_type: str, local_id: int | None) -> str | None:
        if local_id is None:
            return None
        return (
            EntityMap.objects.filter(
                connection_id=self.connection.pk, entity_type=entity_type, local_id=local_id
            )
            .exclude(remote_id=None)
            .values_list("remote_id", flat=True)
            .first()
        )

    def mapped_remote_ids(self, entity_type: str) -> set[str]:
        return set(
            EntityMap.objects.filter(connection_id=self.connection.pk, entity_type=entity_type)
            .exclude(remote_id=None)
            .values_list("remote_id", flat=True)
        )

    def log(self, entity_type: str, direction: str, outcome: str, **fields: Any) -> None:
        Transfer.objects.create(
            tenant_id=self.tenant_id,
            run=self.run,
            entity_type=entity_type,
            direction=direction,
            outcome=outcome,
            created_at=clock.now(),
            **fields,
        )
        counts = dict(self.run.counts or {})
        counts[outcome] = counts.get(outcome, 0) + 1
        self.run.counts = counts


class Adapter:
    """Shared parts: one listing of the Visma.net records per run to pair existing ones, a
    direct GET by the key to settle an unclear create or read back an unclear update."""

    entity_type = ""
    directions: frozenset[str] = BOTH
    match_key_only = True
    path = ""
    key_field = ""

    def __init__(self, context: VismaNetContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        self._read_back: dict[str, dict] = {}

    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {
                _text(item.get(self.key_field)): item for item in self.client.list(self.path)
            }
        return self._listing

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(item)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        found = self.client.find(self.path, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.path, remote_id)
        if found is None:
            return None
        self._read_back[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        expected = self.remote_record(
            {**self._read_back.get(remote.id, {}), **self.comparable(local)}
        )
        return remote.id in self._read_back and expected.data == remote.data

    def comparable(self, local: LocalRecord) -> dict:
        """The local record's values as a read record holds them (for read-backs)."""
        return {}

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        record = self.client.create(self.path, self.remote_payload(local, creating=True))
        if self._listing is not None:
            self._listing[_text(record.get(self.key_field))] = record
        return self.remote_record(record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._read_back.get(remote_id) or {}
        record = self.client.update(
            self.path,
            remote_id,
            self.remote_payload(local, creating=False),
            etag=_text(current.get("timeStamp")),
        )
        return self.remote_record(record)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        # A paired record's Visma.net changes apply only when Visma.net is master.
        skip_paired = self.context.connection.master_for(self.entity_type) == Master.SEVERA
        paired = self.context.mapped_remote_ids(self.entity_type) if skip_paired else set()
        for item in self.client.list(self.path, changed_since=changed_since):
            if _text(item.get(self.key_field)) not in paired:
                yield self.remote_record(item)
