"""What every adapter of this system shares: the run's context, helpers and the adapter base."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.client import EAccountingClient
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.errors import PermanentError
from integrations.facts import BOTH, SystemFacts
from integrations.local import decimal_of, text
from integrations.models import Connection, EntityMap, SyncRun, Transfer
from severa import clock

SELLER_COUNTRY = "SE"
# Swedish VAT codes (the VAT return's boxes) by domestic rate, and for the zero-rated sales.
DOMESTIC_VAT_CODES = {Decimal(25): "10", Decimal(12): "11", Decimal(6): "12", Decimal(0): "42"}
REVERSE_CHARGE_VAT_CODE = "39"
OUTSIDE_EU_VAT_CODE = "40"
STANDARD_RATE = Decimal(25)
PAYMENT_STATUS_PAID = 0
PROJECT_ONGOING, PROJECT_FINISHED = 1, 2
# The state of an invoice after its draft (EntityMap "booked_invoice", remote_hash).
BOOKED, PAID, CREDITED, DRAFT_GONE = "booked", "paid", "credited", "draft-gone"


def _day(value: Any) -> datetime.date | None:
    raw = text(value)
    if not raw:
        return None
    return datetime.date.fromisoformat(raw[:10])


class EEkonomiContext:
    """What the adapters of one run share: the connection, the client, eEkonomi's read-only
    registers (read once per run, when needed) and the pairings of other entity types."""

    def __init__(
        self, run: SyncRun, client: EAccountingClient, facts: SystemFacts = EACCOUNTING_FACTS
    ):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self._registers: dict[str, list[dict]] = {}

    def register(self, path: str) -> list[dict]:
        if path not in self._registers:
            self._registers[path] = list(self.client.list(path))
        return self._registers[path]

    def unit_id(self, code: str) -> str | None:
        wanted = code.strip().casefold()
        for unit in self.register("units"):
            if wanted in (
                text(unit.get("Code")).casefold(),
                text(unit.get("Abbreviation")).casefold(),
            ):
                return unit["Id"]
        return None

    def unit_code(self, unit_id: str) -> str:
        for unit in self.register("units"):
            if unit["Id"] == unit_id:
                return text(unit.get("Code"))
        return ""

    def coding(self, *, vat_rate: Decimal, goods: bool) -> dict | None:
        codings = [c for c in self.register("articleaccountcodings") if c.get("IsActive")]
        kind = "Goods" if goods else "Service"
        for rate in (vat_rate, STANDARD_RATE):
            for coding in codings:
                percent = decimal_of(coding.get("VatRatePercent")) * 100
                if coding.get("Type") == kind and percent == rate:
                    return coding
        return None

    def coding_rate(self, coding_id: str) -> Decimal:
        for coding in self.register("articleaccountcodings"):
            if coding["Id"] == coding_id:
                return (decimal_of(coding.get("VatRatePercent")) * 100).normalize()
        return Decimal(0)

    def terms_of_payment_id(self) -> str | None:
        terms = [t for t in self.register("termsofpayment") if t.get("AvailableForSales", True)]
        terms.sort(key=lambda t: (int(t.get("NumberOfDays") or 0) != 30, t.get("Name") or ""))
        return terms[0]["Id"] if terms else None

    def vat_code_id(self, code: str) -> str | None:
        for vat_code in self.register("vatcodes"):
            if text(vat_code.get("Code")) == code:
                return vat_code["Id"]
        return None

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

    def local_id(self, entity_type: str, remote_id: str) -> int | None:
        return (
            EntityMap.objects.filter(
                connection_id=self.connection.pk, entity_type=entity_type, remote_id=remote_id
            )
            .values_list("local_id", flat=True)
            .first()
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
    """Shared parts: one listing per run to pair existing records, a filtered GET by the
    marker to settle an unclear create, and PUT as eEkonomi does it (the whole record:
    the fields we do not map are sent back as they are)."""

    entity_type = ""
    path = ""
    marker = ""
    stamp = "ChangedUtc"
    directions: frozenset[str] = BOTH
    match_key_only = True

    def __init__(self, context: EEkonomiContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        self._by_id: dict[str, dict] = {}

    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {}
            for item in self.client.list(self.path):
                self._listing.setdefault(text(item.get(self.marker)), item)
                self._by_id[item["Id"]] = item
        return self._listing

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(item)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        found = self.client.find_by(self.path, self.marker, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.path, remote_id)
        if found is None:
            return None
        self._by_id[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        record = self._by_id.get(remote.id)
        if record is None:
            return False
        return self.context.facts.payload_matches(
            self.remote_payload(local, creating=False), record
        )

    def _kept(self, record: dict) -> RemoteRecord:
        self._by_id[record["Id"]] = record
        if self._listing is not None:
            self._listing[text(record.get(self.marker))] = record
        return self.remote_record(record)

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = {
            name: value
            for name, value in self.remote_payload(local, creating=True).items()
            if value not in (None, "")
        }
        return self._kept(self.client.create(self.path, payload))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._by_id.get(remote_id) or self.client.get(self.path, remote_id)
        record = {**current, **self.remote_payload(local, creating=False)}
        return self._kept(self.client.replace(self.path, remote_id, record))

    def list_remote(self, changed_since: datetime.datetime | None) -> list[RemoteRecord]:
        records = []
        for item in self.client.changed(self.path, self.stamp, changed_since):
            self._by_id[item["Id"]] = item
            records.append(self.remote_record(item))
        return records

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        raise PermanentError(_("These records only go from Severa to eEkonomi."))

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        raise PermanentError(_("These records only go from Severa to eEkonomi."))
