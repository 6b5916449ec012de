"""The Visma Global settings beyond the connection's own (the guide's old configuration
keys, now kept in the service and fetched by the agent): the customer types that transfer
(`TransferrableCustomerTypeNos`), whether supplier invoices are billable, and the master
per entity type (`Account Master`, `Case Master`, `Product Master`, `User Master`, …)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import User
from integrations.agents import agent_of
from integrations.models import Agent, Connection, Master
from severa import clock

# The entity types whose master is a setting, besides customers and products (the
# connection's own fields).
MASTER_TYPES = ("business_unit", "employee", "project")


def customer_types_parse(text: str) -> list[int]:
    """ "1, 2 5" → [1, 2, 5]; ValidationError for anything but whole numbers."""
    values = []
    for part in text.replace(",", " ").split():
        if not part.isdigit():
            raise ValidationError(
                {"customer_types": _("Give the customer type numbers, e.g. 1, 2.")}
            )
        values.append(int(part))
    return sorted(set(values))


@transaction.atomic
def visma_global_settings_update(
    *,
    connection: Connection,
    customer_types: list[int],
    supplier_invoices_billable: bool,
    masters: dict[str, str],
    actor: User | None,
) -> Agent:
    unknown = [
        kind
        for kind, master in masters.items()
        if kind not in MASTER_TYPES or master not in Master.values
    ]
    if unknown:
        raise ValidationError({"masters": _("Choose Severa or the accounting system.")})
    agent = Agent.objects.select_for_update().get(pk=agent_of(connection=connection).pk)
    agent.options = {
        **(agent.options or {}),
        "customer_types": customer_types,
        "supplier_invoices_billable": bool(supplier_invoices_billable),
    }
    agent.updated_at = clock.now()
    agent.save(update_fields=["options", "updated_at"])
    Connection.objects.filter(pk=connection.pk).update(
        masters={**(connection.masters or {}), **masters}, updated_at=clock.now()
    )
    connection.masters = {**(connection.masters or {}), **masters}
    audit_record(
        actor=actor,
        action=AuditAction.INTEGRATION_SETTINGS_CHANGED,
        tenant=connection.tenant,
        details={
            "system": connection.system,
            "fields": ["customer_types", "supplier_invoices_billable", "masters"],
        },
    )
    return agent
