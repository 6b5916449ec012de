"""Projects to eEkonomi."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import PROJECT_FINISHED, PROJECT_ONGOING, Adapter
from integrations.facts import TO_REMOTE
from integrations.local import projects_changed_since, text
from records.models import SalesStatus


class ProjectAdapter(Adapter):
    entity_type = "project"
    path = "projects"
    marker = "Number"
    stamp = "ModifiedUtc"
    directions = TO_REMOTE

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return projects_changed_since(
            self.tenant_id,
            since,
            data=lambda project: {
                "customer_id": project.customer_id,
                "status": PROJECT_FINISHED
                if project.sales_status == SalesStatus.LOST
                else PROJECT_ONGOING,
                "start": project.created_at.date(),
            },
        )

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: text(item.get(name)) for name in ("Number", "Name", "Status", "CustomerId")}
        return RemoteRecord(id=item["Id"], key=data["Number"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 9:
            return _("eEkonomi project numbers have 1 to 9 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Number": local.key,
            "Name": local.name[:200],
            "Status": local.data["status"],
            "CustomerId": self.context.remote_id("customer", local.data["customer_id"]),
        }
        if creating:
            payload["StartDate"] = datetime.datetime.combine(
                local.data["start"], datetime.time(), tzinfo=datetime.UTC
            )
        return payload
