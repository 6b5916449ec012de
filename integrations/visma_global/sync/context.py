"""What every adapter of this system shares: the run's context, helpers and the adapter base."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.agents import AgentChannel
from integrations.facts import BOTH, SystemFacts
from integrations.models import EntityMap, SyncRun, Transfer
from integrations.visma_global.facts import VISMA_GLOBAL_FACTS
from records.models import ProductKind
from severa import clock

ARTICLE_TYPES = {
    ProductKind.WORK_TYPE: "Work",
    ProductKind.TRAVEL: "Travel",
    ProductKind.PRODUCT: "Product",
}
PRODUCT_KINDS = {value: key for key, value in ARTICLE_TYPES.items()}
ADDRESS_KINDS = ("invoice", "postal", "office", "visiting")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class VismaGlobalContext:
    """What the adapters of one run share: the run, its connection, the agent channel."""

    def __init__(
        self, run: SyncRun, channel: AgentChannel, facts: SystemFacts = VISMA_GLOBAL_FACTS
    ):
        self.run = run
        self.connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.channel = channel
        self.facts = facts
        options = getattr(getattr(run.connection, "agent", None), "options", None) or {}
        self.options: dict[str, Any] = options

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
    """A register of Visma Global through the agent: list, get (by number), create and
    update, each one job; writes carry the record's reference as their idempotency id."""

    entity_type = ""
    register = ""
    key_field = ""
    name_field = "Name"
    fields: tuple[str, ...] = ()
    directions = BOTH
    match_key_only = False

    def __init__(self, context: VismaGlobalContext):
        self.context = context
        self.channel = context.channel
        self.tenant_id = context.tenant_id

    # Remote side ----------------------------------------------------------------------
    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: item.get(name) for name in (self.key_field, *self.fields)}
        key = _text(item.get(self.key_field))
        return RemoteRecord(id=key, key=key, name=_text(item.get(self.name_field)), data=data)

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        items = self.channel.call(
            "list", {"register": self.register, "changed_since": _iso(changed_since)}
        )
        return [self.remote_record(item) for item in items or []]

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        item = self.channel.call("get", {"register": self.register, "key": remote_id})
        return self.remote_record(item) if item else None

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        return self.read_remote(local.key)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        return self.find_remote(local, reference)

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        raise NotImplementedError

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return self.context.facts.payload_matches(
            self.payload(local, creating=False), dict(remote.data)
        )

    def write_id(self, local: LocalRecord, action: str) -> str:
        return f"severa-{self.context.connection.pk}-{self.entity_type}-{local.id}-{action}"

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        item = self.channel.call(
            "create",
            {"register": self.register, "fields": self.payload(local, creating=True)},
            write_id=f"{reference}-create",
        )
        return self.remote_record(item)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        item = self.channel.call(
            "update",
            {
                "register": self.register,
                "key": remote_id,
                "fields": self.payload(local, creating=False),
            },
            write_id=self.write_id(local, f"update-{local.updated_at.isoformat()}"),
        )
        return self.remote_record(item)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("Records are matched by number/code: give this one a number/code.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None
