"""Projects to Fortnox only; Severa is always master."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.fortnox.client import PROJECTS
from integrations.fortnox.sync.context import PROJECT_STATUS, TO_REMOTE, Adapter
from integrations.local import text as _text
from records.models import Project as SeveraProject


class ProjectAdapter(Adapter):
    """Severa → Fortnox only; Fortnox descriptions are cut at 50 characters, so projects
    pair by number alone."""

    entity_type = "project"
    resource = PROJECTS
    directions = TO_REMOTE

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={"status": PROJECT_STATUS.get(project.sales_status, "NOTSTARTED")},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [self._local(project) for project in projects.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: _text(item.get(name)) for name in ("ProjectNumber", "Description", "Status")}
        return RemoteRecord(
            id=data["ProjectNumber"], key=data["ProjectNumber"], name=data["Description"], data=data
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 20:
            return _("Fortnox project numbers have 1 to 20 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload = {"Description": local.name[:50], "Status": local.data["status"]}
        if creating:
            payload["ProjectNumber"] = local.key
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Projects only go from Severa to Fortnox."))

    update_local = create_local  # type: ignore[assignment]
