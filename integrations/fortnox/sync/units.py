"""Units both ways, matched by code."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.fortnox.client import UNITS
from integrations.fortnox.sync.context import Adapter
from integrations.local import saved as _saved
from integrations.local import text as _text
from records.models import Unit
from records.services.organisation import unit_create, unit_update


class UnitAdapter(Adapter):
    entity_type = "unit"
    resource = UNITS

    def _local(self, unit: Unit) -> LocalRecord:
        return LocalRecord(
            id=unit.pk,
            key=unit.code,
            name=unit.name,
            updated_at=unit.updated_at,
            data={"code": unit.code, "name": unit.name},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        units = Unit.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            units = units.filter(updated_at__gt=since)
        return [self._local(unit) for unit in units.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        code = _text(item.get("Code"))
        name = _text(item.get("Description"))
        return RemoteRecord(id=code, key=code, name=name, data={"Code": code, "Description": name})

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload = {"Description": local.name[:100] or local.key}
        if creating:
            payload["Code"] = local.key
        return payload

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 20:
            return _("A unit code of 1 to 20 characters is needed in Fortnox.")
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        unit = Unit.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return None if unit is None else self._local(unit)

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        unit = _saved(
            lambda: unit_create(
                tenant=self.context.tenant, data={"code": remote.key, "name": remote.name}
            )
        )
        return self._local(unit)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        unit = Unit.objects.get(tenant_id=self.tenant_id, pk=local_id)
        unit = _saved(lambda: unit_update(unit=unit, data={"name": remote.name}))
        return self._local(unit)
