"""What every Fortnox adapter shares: the run's context, the field lists and the adapter base."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.facts import SystemFacts
from integrations.fortnox.client import FortnoxClient, Resource
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.local import text as _text
from integrations.models import Connection, EntityMap, SyncRun, Transfer, TransferDirection
from records.models import AddressKind, SalesStatus
from severa import clock

BOTH = frozenset({TransferDirection.TO_REMOTE, TransferDirection.TO_LOCAL})
TO_REMOTE = frozenset({TransferDirection.TO_REMOTE})
TO_LOCAL = frozenset({TransferDirection.TO_LOCAL})

# Severa address kind → the Fortnox fields of that address (street, zip, city, country).
ADDRESS_FIELDS: dict[str, tuple[str, str, str, str]] = {
    AddressKind.INVOICE: ("Address1", "ZipCode", "City", "CountryCode"),
    AddressKind.POSTAL: (
        "DeliveryAddress1",
        "DeliveryZipCode",
        "DeliveryCity",
        "DeliveryCountryCode",
    ),
    AddressKind.OFFICE: (
        "VisitingAddress",
        "VisitingZipCode",
        "VisitingCity",
        "VisitingCountryCode",
    ),
}
CUSTOMER_FIELDS = (
    "CustomerNumber",
    "Name",
    "Type",
    "VATNumber",
    "OrganisationNumber",
    "Email",
    "Phone1",
    "YourReference",
    "Active",
    *(name for fields in ADDRESS_FIELDS.values() for name in fields),
)
ARTICLE_FIELDS = ("ArticleNumber", "Description", "Unit", "VAT", "SalesPrice")
NUMBER_FIELDS = frozenset({"VAT", "SalesPrice"})
PROJECT_STATUS = {
    SalesStatus.LEAD: "NOTSTARTED",
    SalesStatus.PROPOSAL: "NOTSTARTED",
    SalesStatus.WON: "ONGOING",
    SalesStatus.LOST: "COMPLETED",
}
# What identifies a supplier-invoice row: what it books (Fortnox rows carry no id).
ROW_IDENTITY = (
    "Account",
    "Code",
    "Debit",
    "Credit",
    "Project",
    "CostCenter",
    "ArticleNumber",
    "ItemDescription",
    "Quantity",
    "TransactionInformation",
)
ROW_AMOUNTS = frozenset({"Debit", "Credit", "Quantity"})
# Supplier-invoice row codes that are not costs (the total and the VAT rows).
NOT_COST_ROW_CODES = frozenset({"TOT", "VAT"})


def _number_text(value: Any) -> str:
    """A number as one canonical text, whether Fortnox wrote it as a number or a string."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return _text(value)
    return format(number.normalize(), "f")


def _numeric(code: str) -> bool:
    return code.isdigit()


class FortnoxContext:
    """What the adapters of one run share: the run, its connection, the client, and the
    pairings of other entity types (an invoice needs its customer's Fortnox number)."""

    def __init__(self, run: SyncRun, client: FortnoxClient, facts: SystemFacts = FORTNOX_FACTS):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self.created_invoices: list[int] = []

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
    """Shared parts: a listing of the Fortnox records read once per run to pair existing
    records, a direct GET by the marker to settle an unclear create, and the payload rules
    of Fortnox (an update clears a field with ``API_BLANK``; a create leaves it out)."""

    entity_type = ""
    directions: frozenset[str] = BOTH
    match_key_only = True
    resource: Resource

    def __init__(self, context: FortnoxContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        # Records read back after an update with unknown outcome, by remote id.
        self._read_back: dict[str, dict] = {}

    # Fortnox records as the engine compares them ----------------------------------------
    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {
                _text(item.get(self.resource.key)): item for item in self.client.list(self.resource)
            }
        return self._listing

    def full(self, item: dict) -> dict:
        """The record the engine compares, from a list item (one GET where list items lack
        fields)."""
        return item

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(self.full(item))

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        """Ask Fortnox for the record by its number/code (after an unclear create)."""
        if not local.key:
            return None
        found = self.client.find(self.resource, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.resource, remote_id)
        if found is None:
            return None
        self._read_back[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        """Whether the record read back holds every value an update would send (compared
        the Fortnox way: numbers as strings equal numbers, empty equals unset)."""
        record = self._read_back.get(remote.id)
        if record is None:
            return False
        return self.context.facts.payload_matches(
            self.remote_payload(local, creating=False), record
        )

    def _created(self, local: LocalRecord, record: dict) -> RemoteRecord:
        if self._listing is not None:
            self._listing[_text(record.get(self.resource.key))] = record
        return self.remote_record(record)

    def create_payload(self, local: LocalRecord) -> dict:
        """A new record: empty fields are left out."""
        return {
            name: value
            for name, value in self.remote_payload(local, creating=True).items()
            if value not in (None, "")
        }

    def update_payload(self, local: LocalRecord) -> dict:
        """Changes: an empty field is cleared the way Fortnox clears one (``API_BLANK``)."""
        facts = self.context.facts
        return {
            name: facts.clear(value)
            for name, value in self.remote_payload(local, creating=False).items()
        }

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        record = self.client.create(self.resource, self.create_payload(local))
        return self._created(local, record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        record = self.client.update(self.resource, remote_id, self.update_payload(local))
        return self.remote_record(record)

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        return [
            self.remote_record(self.full(item))
            for item in self.client.list(self.resource, lastmodified=changed_since)
        ]
