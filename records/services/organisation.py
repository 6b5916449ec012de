"""Business units, cost centres, units of measure and employees."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, Tenant, User
from accounts.tenancy import tenant_scope
from records.models import (
    BusinessUnit,
    CostCentre,
    Employee,
    Unit,
)
from records.services.checks import (
    Checker,
    Data,
    record_save,
    tenant_of,
)

# Business units, cost centres, units -----------------------------------------------------


def _business_unit_values(check: Checker) -> dict[str, Any]:
    name = check.text(BusinessUnit, "name", required=_("Give the business unit a name."))
    code = check.text(BusinessUnit, "code")
    check.unique(BusinessUnit, "code", code, _("Another business unit has the code %(value)s."))
    check.done()
    return {"name": name, "code": code}


@transaction.atomic
def business_unit_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> BusinessUnit:
    with tenant_scope(tenant):
        values = _business_unit_values(Checker(tenant, None, data))
        return record_save(
            BusinessUnit,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["name"],
        )


@transaction.atomic
def business_unit_update(
    *, business_unit: BusinessUnit, data: Data, actor: User | None = None
) -> BusinessUnit:
    tenant = tenant_of(business_unit)
    with tenant_scope(tenant):
        values = _business_unit_values(Checker(tenant, business_unit, data))
        return record_save(
            BusinessUnit,
            tenant=tenant,
            instance=business_unit,
            values=values,
            actor=actor,
            label=values["name"],
        )


def _cost_centre_values(check: Checker) -> dict[str, Any]:
    code = check.text(CostCentre, "code", required=_("Give the cost centre a code."))
    name = check.text(CostCentre, "name", required=_("Give the cost centre a name."))
    is_active = check.boolean("is_active", True)
    check.unique(CostCentre, "code", code, _("Another cost centre has the code %(value)s."))
    check.done()
    return {"code": code, "name": name, "is_active": is_active}


@transaction.atomic
def cost_centre_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> CostCentre:
    with tenant_scope(tenant):
        values = _cost_centre_values(Checker(tenant, None, data))
        return record_save(
            CostCentre,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["code"],
        )


@transaction.atomic
def cost_centre_update(
    *, cost_centre: CostCentre, data: Data, actor: User | None = None
) -> CostCentre:
    tenant = tenant_of(cost_centre)
    with tenant_scope(tenant):
        values = _cost_centre_values(Checker(tenant, cost_centre, data))
        return record_save(
            CostCentre,
            tenant=tenant,
            instance=cost_centre,
            values=values,
            actor=actor,
            label=values["code"],
        )


def _unit_values(check: Checker) -> dict[str, Any]:
    code = check.text(Unit, "code", required=_("Give the unit a code, e.g. pcs or h."))
    name = check.text(Unit, "name", required=_("Give the unit a name."))
    check.unique(Unit, "code", code, _("Another unit has the code %(value)s."))
    check.done()
    return {"code": code, "name": name}


@transaction.atomic
def unit_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> Unit:
    with tenant_scope(tenant):
        values = _unit_values(Checker(tenant, None, data))
        return record_save(
            Unit, tenant=tenant, instance=None, values=values, actor=actor, label=values["code"]
        )


@transaction.atomic
def unit_update(*, unit: Unit, data: Data, actor: User | None = None) -> Unit:
    tenant = tenant_of(unit)
    with tenant_scope(tenant):
        values = _unit_values(Checker(tenant, unit, data))
        return record_save(
            Unit, tenant=tenant, instance=unit, values=values, actor=actor, label=values["code"]
        )


# Employees -------------------------------------------------------------------------------


def _employee_values(check: Checker) -> dict[str, Any]:
    user = check.raw("user")
    if user is not None and not Membership.objects.filter(tenant=check.tenant, user=user).exists():
        check.add("user", _("Only users of the company can be linked to an employee."))
    first_name = check.text(Employee, "first_name", required=_("Give the first name."))
    last_name = check.text(Employee, "last_name")
    email = check.email(Employee)
    is_active = check.boolean("is_active", True)
    if user is not None and "user" not in check.errors:
        others = Employee.objects.filter(tenant=check.tenant, user=user)
        if check.instance is not None:
            others = others.exclude(pk=check.instance.pk)
        if others.exists():
            check.add("user", _("This user is already linked to another employee."))
    check.done()
    return {
        "user": user,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "is_active": is_active,
    }


@transaction.atomic
def employee_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> Employee:
    with tenant_scope(tenant):
        values = _employee_values(Checker(tenant, None, data))
        return record_save(
            Employee,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=f"{values['first_name']} {values['last_name']}".strip(),
        )


@transaction.atomic
def employee_update(*, employee: Employee, data: Data, actor: User | None = None) -> Employee:
    tenant = tenant_of(employee)
    with tenant_scope(tenant):
        values = _employee_values(Checker(tenant, employee, data))
        return record_save(
            Employee,
            tenant=tenant,
            instance=employee,
            values=values,
            actor=actor,
            label=f"{values['first_name']} {values['last_name']}".strip(),
        )


@transaction.atomic
def employee_sync_from_members(*, tenant: Tenant) -> int:
    """One employee per user of the tenant: creates the missing ones, and keeps each linked
    employee's name, e-mail and active flag as its user's (a user without a first name
    keeps the username as one). Returns how many employees were created."""
    created = 0
    with tenant_scope(tenant):
        memberships = Membership.objects.filter(tenant=tenant).select_related("user")
        employees = {
            employee.user_id: employee
            for employee in Employee.objects.filter(tenant=tenant, user__isnull=False)
        }
        for membership in memberships:
            user = membership.user
            values = {
                "first_name": (user.first_name or user.username)[:150],
                "last_name": user.last_name[:150],
                "email": (user.email or "").lower(),
                "is_active": membership.is_active and user.is_active,
            }
            employee = employees.get(user.pk)
            if employee is None:
                Employee.objects.create(tenant=tenant, user=user, **values)
                created += 1
            elif any(getattr(employee, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(employee, name, value)
                employee.save()
    return created
