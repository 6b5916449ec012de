"""Projects to Visma.net."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.facts import TO_REMOTE
from integrations.vismanet.sync.context import PROJECT_STATUS, Adapter, _text
from records.models import Project as SeveraProject


class ProjectAdapter(Adapter):
    entity_type = "project"
    directions = TO_REMOTE
    path = "project"
    key_field = "projectID"

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={
                "customer_id": project.customer_id,
                "status": PROJECT_STATUS.get(project.sales_status, "Planned"),
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [self._local(project) for project in projects.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "projectID": _text(item.get("projectID")),
            "description": _text(item.get("description")),
            "status": _text(item.get("status")),
            "customer": _text((item.get("customer") or {}).get("number")),
        }
        return RemoteRecord(
            id=data["projectID"], key=data["projectID"], name=data["description"], data=data
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 30:
            return _("Visma.net ERP project ids have 1 to 30 characters.")
        customer_id = local.data["customer_id"]
        if customer_id and self.context.remote_id("customer", customer_id) is None:
            return _("The project's customer is not in Visma.net ERP yet.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {"description": local.name[:255], "status": local.data["status"]}
        customer = self.context.remote_id("customer", local.data["customer_id"])
        if customer:
            payload["customer"] = customer
        if creating:
            payload["projectID"] = local.key
        return payload

    def comparable(self, local: LocalRecord) -> dict:
        payload = self.remote_payload(local, creating=False)
        return {**payload, "customer": {"number": payload.get("customer")}}

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Projects only go from Severa to Visma.net ERP."))

    update_local = create_local  # type: ignore[assignment]
