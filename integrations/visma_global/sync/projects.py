"""Projects to Visma Global."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import Adapter, _text
from records.models import Customer, SalesStatus
from records.models import Project as SeveraProject
from records.services.customers import project_create, project_update


class ProjectAdapter(Adapter):
    entity_type = "project"
    register = "project"
    key_field = "ProjectNo"
    fields = ("Name", "CustomerNo", "Status")

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={"customer_id": project.customer_id, "customer_number": project.customer.number},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(
            tenant_id=self.tenant_id, sales_status=SalesStatus.WON
        )
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [
            self._local(project) for project in projects.select_related("customer").order_by("pk")
        ]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _("Its customer is not in Visma Global yet.")
        return super().local_skip_reason(local)

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        payload = {
            "Name": local.name[:80],
            "CustomerNo": self.context.remote_id("customer", local.data["customer_id"]),
            "Status": "Active",
        }
        if creating:
            payload["ProjectNo"] = local.key
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        number = _text(remote.data.get("CustomerNo"))
        if (
            not number
            or not Customer.objects.filter(tenant_id=self.tenant_id, number=number).exists()
        ):
            return _("Its customer %(number)s is not in Severa.") % {"number": number or "–"}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        project = (
            SeveraProject.objects.filter(tenant_id=self.tenant_id, number=remote.key)
            .select_related("customer")
            .first()
        )
        return self._local(project) if project else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        customer = Customer.objects.get(
            tenant_id=self.tenant_id, number=_text(remote.data.get("CustomerNo"))
        )
        return {"number": remote.key, "name": remote.name, "customer": customer}

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        data = {**self._data(remote), "sales_status": SalesStatus.WON}
        project = local_saved(lambda: project_create(tenant=self.context.tenant, data=data))
        return self._local(project)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        project = SeveraProject.objects.get(tenant_id=self.tenant_id, pk=local_id)
        project = local_saved(lambda: project_update(project=project, data=self._data(remote)))
        return self._local(project)
