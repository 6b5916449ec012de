"""Cost centres (Severa's business units) to eEkonomi."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import Adapter, EEkonomiContext
from integrations.facts import TO_REMOTE
from integrations.local import text
from records.models import CostCentre


class CostCentreAdapter(Adapter):
    entity_type = "cost_centre"
    path = "costcenteritems"
    marker = "ShortName"
    directions = TO_REMOTE

    def __init__(self, context: EEkonomiContext):
        super().__init__(context)
        self._dimension: dict | None = None

    def dimension(self, *, fresh: bool = False) -> dict | None:
        """eEkonomi's cost centre 1 with its items (one GET a run)."""
        if self._dimension is None or fresh:
            centers = list(self.client.list("costcenters"))
            self._dimension = next((c for c in centers if int(c.get("Number") or 0) == 1), None)
        return self._dimension

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Always read: cost centre 1's state decides whether any can go.
        self.dimension()
        centres = CostCentre.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            centres = centres.filter(updated_at__gt=since)
        return [
            LocalRecord(
                id=centre.pk,
                key=centre.code,
                name=centre.name,
                updated_at=centre.updated_at,
                data={"is_active": centre.is_active},
            )
            for centre in centres.order_by("pk")
        ]

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            dimension = self.dimension() or {}
            self._listing = {
                text(item.get("ShortName")): item for item in dimension.get("Items") or []
            }
            self._by_id.update({item["Id"]: item for item in self._listing.values()})
        return self._listing

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        dimension = self.dimension(fresh=True) or {}
        for item in dimension.get("Items") or []:
            if text(item.get("ShortName")) == local.key:
                return self.remote_record(item)
        return None

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: text(item.get(name)) for name in ("ShortName", "Name", "IsActive")}
        return RemoteRecord(id=item["Id"], key=data["ShortName"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        dimension = self.dimension()
        if dimension is None or not dimension.get("IsActive"):
            return _(
                "Cost centre 1 is not switched on in eEkonomi: switch it on under Settings → "
                "Cost centres, then sync again."
            )
        if not local.key or len(local.key) > 9:
            return _("eEkonomi cost centre short names have 1 to 9 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Name": local.name[:50],
            "ShortName": local.key,
            "IsActive": bool(local.data.get("is_active", True)),
        }
        if creating:
            payload["CostCenterId"] = (self.dimension() or {})["Id"]
        return payload

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._by_id.get(remote_id) or self.client.get(self.path, remote_id)
        record = {
            "CostCenterId": current.get("CostCenterId"),
            **self.remote_payload(local, creating=False),
        }
        return self._kept(self.client.replace(self.path, remote_id, record))
