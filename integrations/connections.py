"""Connections: creating one, its settings, and whether it may sync.

An integration can only be connected while its interface is part of the tenant's
subscription (DESIGN §3.1). The catalog's `Interface.system` names the system each interface
unlocks; the subscription lists the interface codes it has (`Subscription.interfaces`, the
state in force today: a removal takes effect at the rollover that starts the next period).
A connection whose interface is gone is paused with a reason: at the start of each run
(`connection_may_sync`) and by the scheduler's sweep (`connections_pause_without_interface`).

Activating (connecting) needs the invoice statuses that send an invoice and that mark it
received, as records of the tenant (integrations/records.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from accounts.audit import ActorLike, AuditAction, audit_record
from accounts.models import Tenant
from integrations import records
from integrations.connectors import system_code
from integrations.models import Connection, ConnectionStatus, Master, OrderReferenceTo
from severa import clock
from severa.errors import DomainError
from subscriptions.models import Interface, InterfaceSystem, Subscription, SubscriptionStatus

logger = logging.getLogger(__name__)

# The settings a tenant edits (page form and API alike).
SETTINGS_FIELDS = (
    "send_status_id",
    "received_status_id",
    "paid_status_id",
    "transfer_attachments",
    "transfer_all_customers",
    "customers_master",
    "products_master",
    "default_product_id",
    "error_emails",
    "order_reference_to",
)
MAX_ERROR_EMAILS = 10
# The reason a connection is paused when its interface has left the subscription.
INTERFACE_GONE = "The interface is no longer part of the subscription."


def interface_for(*, system: str) -> Interface | None:
    return Interface.objects.filter(system=system_code(system)).first()


def active_interface_codes(*, tenant: Tenant) -> set[str]:
    subscription = Subscription.objects.filter(
        tenant=tenant, status=SubscriptionStatus.ACTIVE
    ).first()
    return set(subscription.interfaces) if subscription else set()


def interface_active(*, tenant: Tenant, system: str) -> bool:
    interface = interface_for(system=system)
    return interface is not None and interface.code in active_interface_codes(tenant=tenant)


@dataclass(frozen=True)
class SystemOverview:
    system: str
    label: str
    interface: Interface | None
    interface_active: bool
    connection: Connection | None


def systems_overview(*, tenant: Tenant) -> list[SystemOverview]:
    """Every system of the catalog with its interface state and the tenant's connection."""
    interfaces = {interface.system: interface for interface in Interface.objects.all()}
    active = active_interface_codes(tenant=tenant)
    connections = {c.system: c for c in Connection.objects.filter(tenant=tenant)}
    rows = []
    for system, label in InterfaceSystem.choices:
        interface = interfaces.get(system)
        rows.append(
            SystemOverview(
                system=system,
                label=str(label),
                interface=interface,
                interface_active=interface is not None and interface.code in active,
                connection=connections.get(system),
            )
        )
    return rows


def connection_settings_clean(*, tenant: Tenant, values: dict) -> dict:
    """Check settings (all or some of SETTINGS_FIELDS); returns them cleaned or raises
    ValidationError with a message per field."""
    errors: dict[str, str] = {}
    cleaned = {key: value for key, value in values.items() if key in SETTINGS_FIELDS}
    status_ids = {pk for pk, _name in records.invoice_statuses(tenant=tenant)}
    for name in ("send_status_id", "received_status_id", "paid_status_id"):
        value = cleaned.get(name)
        if value is not None and value not in status_ids:
            errors[name] = _("No such invoice status.")
    product = cleaned.get("default_product_id")
    if product is not None and product not in {pk for pk, _n in records.products(tenant=tenant)}:
        errors["default_product_id"] = _("No such product.")
    for name in ("customers_master", "products_master"):
        if name in cleaned and cleaned[name] not in Master.values:
            errors[name] = _("Choose Severa or the accounting system.")
    if "order_reference_to" in cleaned and cleaned["order_reference_to"] not in (
        OrderReferenceTo.values
    ):
        errors["order_reference_to"] = _("Choose the reference or a note.")
    if "error_emails" in cleaned:
        emails = []
        for email in cleaned["error_emails"] or []:
            email = str(email).strip().lower()
            try:
                validate_email(email)
            except ValidationError:
                errors["error_emails"] = _("%(email)s is not an e-mail address.") % {"email": email}
                break
            if email not in emails:
                emails.append(email)
        if len(emails) > MAX_ERROR_EMAILS:
            errors["error_emails"] = _("At most %(count)d addresses.") % {"count": MAX_ERROR_EMAILS}
        cleaned["error_emails"] = emails
    if errors:
        raise ValidationError(errors)
    return cleaned


def connection_activation_errors(*, connection: Connection) -> dict[str, str]:
    """What stops `connection` from being activated (connected), by field; empty when
    nothing does."""
    errors: dict[str, str] = {}
    if not interface_active(tenant=connection.tenant, system=connection.system):
        errors["system"] = _(
            "The %(system)s interface is not part of the subscription: add it under Upgrades."
        ) % {"system": connection.get_system_display()}
    status_ids = {pk for pk, _name in records.invoice_statuses(tenant=connection.tenant)}
    for name, message in (
        ("send_status_id", _("Choose the invoice status that sends an invoice.")),
        (
            "received_status_id",
            _("Choose the invoice status an invoice moves to once it has been received."),
        ),
    ):
        if getattr(connection, name) not in status_ids:
            errors[name] = message
    if (
        connection.send_status_id is not None
        and connection.send_status_id == connection.received_status_id
    ):
        errors["received_status_id"] = _(
            "The status after receipt must differ from the status that sends."
        )
    return errors


@transaction.atomic
def connection_create(
    *, tenant: Tenant, system: str, values: dict | None = None, actor: ActorLike
) -> Connection:
    """Set up a connection (draft) to `system`; its interface must be active."""
    try:
        system = system_code(system)
    except LookupError:
        raise ValidationError({"system": _("Unknown system.")}) from None
    if not interface_active(tenant=tenant, system=system):
        raise ValidationError(
            {
                "system": _(
                    "The %(system)s interface is not part of the subscription: "
                    "add it under Upgrades."
                )
                % {"system": InterfaceSystem(system).label}
            }
        )
    cleaned = connection_settings_clean(tenant=tenant, values=values or {})
    now = clock.now()
    connection = Connection(tenant=tenant, system=system, created_at=now, updated_at=now)
    for name, value in cleaned.items():
        setattr(connection, name, value)
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        raise ValidationError(
            {"system": _("The company has a connection to this system already.")}
        ) from None
    audit_record(
        actor=actor,
        action=AuditAction.INTEGRATION_CREATED,
        tenant=tenant,
        subject=connection,
        details={"system": system},
    )
    return connection


@transaction.atomic
def connection_settings_update(
    *, connection: Connection, values: dict, actor: ActorLike
) -> Connection:
    """Change some or all settings. An active connection keeps what activation needs."""
    cleaned = connection_settings_clean(tenant=connection.tenant, values=values)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    for name, value in cleaned.items():
        setattr(connection, name, value)
    if connection.status == ConnectionStatus.ACTIVE:
        errors = connection_activation_errors(connection=connection)
        errors.pop("system", None)
        if errors:
            raise ValidationError(errors)
    connection.updated_at = clock.now()
    connection.save()
    audit_record(
        actor=actor,
        action=AuditAction.INTEGRATION_SETTINGS_CHANGED,
        tenant=connection.tenant_id,
        subject=connection,
        details={"system": connection.system, "fields": sorted(cleaned)},
    )
    return connection


class ConnectionStatusError(DomainError):
    messages = {
        "not_allowed": gettext_lazy("A connection that is %(status)s cannot become %(to)s."),
    }


# The statuses each target status may be reached from (a draft is only ever the first).
ALLOWED_FROM: dict[str, frozenset[str]] = {
    ConnectionStatus.ACTIVE: frozenset(
        {ConnectionStatus.DRAFT, ConnectionStatus.PAUSED, ConnectionStatus.DISCONNECTED}
    ),
    ConnectionStatus.PAUSED: frozenset({ConnectionStatus.ACTIVE}),
    ConnectionStatus.DISCONNECTED: frozenset(
        {ConnectionStatus.DRAFT, ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED}
    ),
}
# The audit action of a move by its target, unless the caller names a more precise one
# (a first authorisation is "connected", a paused connection's return "resumed").
MOVE_ACTIONS: dict[str, AuditAction] = {
    ConnectionStatus.ACTIVE: AuditAction.INTEGRATION_RESUMED,
    ConnectionStatus.PAUSED: AuditAction.INTEGRATION_PAUSED,
    ConnectionStatus.DISCONNECTED: AuditAction.INTEGRATION_DISCONNECTED,
}


def connection_status_move(
    *,
    connection: Connection,
    to: str,
    actor: ActorLike,
    reason: str = "",
    action: AuditAction | None = None,
    details: dict | None = None,
) -> None:
    """The one way a connection's status moves: checked against ``ALLOWED_FROM`` on the
    locked row, written with its reason and audited in the same transaction. A refused move
    raises ``ConnectionStatusError`` and changes and audits nothing. The instance follows."""
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status not in ALLOWED_FROM[to]:
            raise ConnectionStatusError(
                "not_allowed",
                status=ConnectionStatus(locked.status).label,
                to=ConnectionStatus(to).label,
            )
        previous = locked.status
        Connection.objects.filter(pk=connection.pk).update(
            status=to, status_reason=reason[:300], updated_at=clock.now()
        )
        connection.status, connection.status_reason = to, reason[:300]
        audit_record(
            actor=actor,
            action=action or MOVE_ACTIONS[to],
            tenant=connection.tenant_id,
            subject=connection,
            details={
                "system": connection.system,
                "from": previous,
                **({"reason": reason} if reason else {}),
                **(details or {}),
            },
        )


# The reason recorded when the company pauses a connection itself (page or API).
PAUSED_BY_COMPANY = "Paused by the company."


@transaction.atomic
def connection_pause(*, connection: Connection, reason: str, actor: ActorLike) -> None:
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status != ConnectionStatus.ACTIVE:
        return
    connection_status_move(
        connection=connection, to=ConnectionStatus.PAUSED, actor=actor, reason=reason
    )


@transaction.atomic
def connection_resume(*, connection: Connection, actor: ActorLike) -> Connection:
    """Paused → active again, when it is authorised and activation's checks pass."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status != ConnectionStatus.PAUSED:
        raise ValidationError(_("Only a paused connection can be resumed."))
    if not connection.is_authorized:
        raise ValidationError(_("Connect again: the connection has no valid authorisation."))
    errors = connection_activation_errors(connection=connection)
    if errors:
        raise ValidationError(errors)
    connection_status_move(connection=connection, to=ConnectionStatus.ACTIVE, actor=actor)
    return connection


def connection_may_sync(*, connection: Connection) -> bool:
    """Whether `connection` may sync now; pauses it (with the reason) when its interface
    has left the subscription."""
    if connection.status != ConnectionStatus.ACTIVE:
        return False
    if not interface_active(tenant=connection.tenant, system=connection.system):
        connection_pause(connection=connection, reason=INTERFACE_GONE, actor=None)
        connection.status, connection.status_reason = ConnectionStatus.PAUSED, INTERFACE_GONE
        return False
    return True


def connections_pause_after_rollover(*, on: date, **kwargs: object) -> None:
    """Receiver of ``billing.rollover.rollover_done``: the rollover may have removed
    interfaces, and their connections stop syncing now."""
    paused = connections_pause_without_interface()
    if paused:
        logger.info("Rollover %s: %d connections paused, their interface removed", on, paused)


def connections_pause_without_interface() -> int:
    """Pause every active connection whose interface is no longer in its tenant's
    subscription (the rollover applied its removal); returns how many."""
    paused = 0
    with scopes_disabled():
        interfaces = {i.system: i.code for i in Interface.objects.all()}
        active = Connection.objects.filter(status=ConnectionStatus.ACTIVE).select_related(
            "tenant__subscription"
        )
        for connection in active:
            subscription = getattr(connection.tenant, "subscription", None)
            codes = (
                set(subscription.interfaces)
                if subscription and subscription.status == SubscriptionStatus.ACTIVE
                else set()
            )
            if interfaces.get(connection.system) not in codes:
                connection_pause(connection=connection, reason=INTERFACE_GONE, actor=None)
                paused += 1
    return paused
