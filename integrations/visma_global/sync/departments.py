"""Departments (Severa's business units)."""

from __future__ import annotations

import datetime
from typing import Any

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import Adapter
from records.models import BusinessUnit
from records.services.organisation import business_unit_create, business_unit_update


class DepartmentAdapter(Adapter):
    entity_type = "business_unit"
    register = "department"
    key_field = "DepartmentNo"
    fields = ("Name",)

    def _local(self, unit: BusinessUnit) -> LocalRecord:
        return LocalRecord(id=unit.pk, key=unit.code, name=unit.name, updated_at=unit.updated_at)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        units = BusinessUnit.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            units = units.filter(updated_at__gt=since)
        return [self._local(unit) for unit in units.order_by("pk")]

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        payload = {"Name": local.name[:50]}
        if creating:
            payload["DepartmentNo"] = local.key
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        unit = BusinessUnit.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return self._local(unit) if unit else None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        unit = local_saved(
            lambda: business_unit_create(
                tenant=self.context.tenant, data={"code": remote.key, "name": remote.name}
            )
        )
        return self._local(unit)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        unit = BusinessUnit.objects.get(tenant_id=self.tenant_id, pk=local_id)
        unit = local_saved(
            lambda: business_unit_update(business_unit=unit, data={"name": remote.name})
        )
        return self._local(unit)
