"""Users become employees; employees with an e-mail address come back."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord, names_match
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import Adapter, _text
from records.models import Employee
from records.services.organisation import employee_create, employee_update


class EmployeeAdapter(Adapter):
    """Matched by e-mail address (Severa's employees have no number), else by name; an
    employee gets the Visma Global number `S<id>` when created there."""

    entity_type = "employee"
    register = "employee"
    key_field = "EmployeeNo"
    fields = ("FirstName", "LastName", "Email", "Active")

    def remote_record(self, item: dict) -> RemoteRecord:
        record = super().remote_record(item)
        name = f"{_text(item.get('FirstName'))} {_text(item.get('LastName'))}".strip()
        return RemoteRecord(
            id=record.id, key=_text(item.get("Email")).lower(), name=name, data=record.data
        )

    def _local(self, employee: Employee) -> LocalRecord:
        return LocalRecord(
            id=employee.pk,
            key=employee.email.lower(),
            name=str(employee),
            updated_at=employee.updated_at,
            data={
                "first_name": employee.first_name,
                "last_name": employee.last_name,
                "email": employee.email,
                "is_active": employee.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        employees = Employee.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            employees = employees.filter(updated_at__gt=since)
        return [self._local(employee) for employee in employees.order_by("pk")]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None  # every employee goes

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if local.key:
            item = self.channel.call(
                "find", {"register": "employee", "field": "Email", "value": local.data["email"]}
            )
            if item:
                return self.remote_record(item)
        return self.read_remote(f"S{local.id}")

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        payload = {
            "FirstName": data["first_name"][:50],
            "LastName": data["last_name"][:50],
            "Email": data["email"],
            "Active": bool(data["is_active"]),
        }
        if creating:
            payload["EmployeeNo"] = f"S{local.id}"
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key:
            return _("Only employees with an e-mail address come from Visma Global.")
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        employees = Employee.objects.filter(tenant_id=self.tenant_id)
        employee = employees.filter(email__iexact=remote.key).first() if remote.key else None
        if employee is None:
            employee = next((e for e in employees if names_match(str(e), remote.name)), None)
        return self._local(employee) if employee else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        return {
            "first_name": _text(data.get("FirstName")) or remote.name,
            "last_name": _text(data.get("LastName")),
            "email": _text(data.get("Email")),
            "is_active": data.get("Active") is not False,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        employee = local_saved(
            lambda: employee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(employee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        employee = Employee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        employee = local_saved(lambda: employee_update(employee=employee, data=self._data(remote)))
        return self._local(employee)
