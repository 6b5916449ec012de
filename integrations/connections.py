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
from django_scopes import scopes_disabled

from accounts.models import Tenant, User
from accounts.services import audit_record
from integrations import records
from integrations.connectors import system_code
from integrations.models import Connection, ConnectionStatus, Master, OrderReferenceTo
from severa import clock
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


def interface_for(system: str) -> Interface | None:
    return Interface.objects.filter(system=system_code(system)).first()


def active_interface_codes(tenant: Tenant) -> set[str]:
    subscription = Subscription.objects.filter(
        tenant=tenant, status=SubscriptionStatus.ACTIVE
    ).first()
    return set(subscription.interfaces) if subscription else set()


def interface_active(tenant: Tenant, system: str) -> bool:
    interface = interface_for(system)
    return interface is not None and interface.code in active_interface_codes(tenant)


@dataclass(frozen=True)
class SystemOverview:
    system: str
    label: str
    interface: Interface | None
    interface_active: bool
    connection: Connection | None


def systems_overview(tenant: Tenant) -> list[SystemOverview]:
    """Every system of the catalog with its interface state and the tenant's connection."""
    interfaces = {interface.system: interface for interface in Interface.objects.all()}
    active = active_interface_codes(tenant)
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


def connection_settings_clean(tenant: Tenant, values: dict) -> dict:
    """Check settings (all or some of SETTINGS_FIELDS); returns them cleaned or raises
    ValidationError with a message per field."""
    errors: dict[str, str] = {}
    cleaned = {key: value for key, value in values.items() if key in SETTINGS_FIELDS}
    status_ids = {pk for pk, _name in records.invoice_statuses(tenant)}
    for name in ("send_status_id", "received_status_id", "paid_status_id"):
        value = cleaned.get(name)
        if value is not None and value not in status_ids:
            errors[name] = _("No such invoice status.")
    product = cleaned.get("default_product_id")
    if product is not None and product not in {pk for pk, _n in records.products(tenant)}:
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


def connection_activation_errors(connection: Connection) -> dict[str, str]:
    """What stops `connection` from being activated (connected), by field; empty when
    nothing does."""
    errors: dict[str, str] = {}
    if not interface_active(connection.tenant, connection.system):
        errors["system"] = _(
            "The %(system)s interface is not part of the subscription: add it under Upgrades."
        ) % {"system": connection.get_system_display()}
    status_ids = {pk for pk, _name in records.invoice_statuses(connection.tenant)}
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
    *, tenant: Tenant, system: str, values: dict | None = None, by_user: User | None
) -> Connection:
    """Set up a connection (draft) to `system`; its interface must be active."""
    try:
        system = system_code(system)
    except LookupError:
        raise ValidationError({"system": _("Unknown system.")}) from None
    if not interface_active(tenant, system):
        raise ValidationError(
            {
                "system": _(
                    "The %(system)s interface is not part of the subscription: "
                    "add it under Upgrades."
                )
                % {"system": InterfaceSystem(system).label}
            }
        )
    cleaned = connection_settings_clean(tenant, values or {})
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
    audit_record(tenant=tenant, actor=by_user, action="integration.created", system=system)
    return connection


@transaction.atomic
def connection_settings_update(
    *, connection: Connection, values: dict, by_user: User | None
) -> Connection:
    """Change some or all settings. An active connection keeps what activation needs."""
    cleaned = connection_settings_clean(connection.tenant, values)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    for name, value in cleaned.items():
        setattr(connection, name, value)
    if connection.status == ConnectionStatus.ACTIVE:
        errors = connection_activation_errors(connection)
        errors.pop("system", None)
        if errors:
            raise ValidationError(errors)
    connection.updated_at = clock.now()
    connection.save()
    audit_record(
        tenant=connection.tenant,
        actor=by_user,
        action="integration.settings_changed",
        system=connection.system,
        fields=sorted(cleaned),
    )
    return connection


def connection_set_status(connection: Connection, status: str, reason: str = "") -> None:
    Connection.objects.filter(pk=connection.pk).update(
        status=status, status_reason=reason[:300], updated_at=clock.now()
    )
    connection.status, connection.status_reason = status, reason[:300]


# The reason recorded when the company pauses a connection itself (page or API).
PAUSED_BY_COMPANY = "Paused by the company."


@transaction.atomic
def connection_pause(*, connection: Connection, reason: str, by_user: User | None) -> None:
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status != ConnectionStatus.ACTIVE:
        return
    connection_set_status(connection, ConnectionStatus.PAUSED, reason)
    audit_record(
        tenant=connection.tenant,
        actor=by_user,
        action="integration.paused",
        system=connection.system,
        reason=reason,
    )


@transaction.atomic
def connection_resume(*, connection: Connection, by_user: User | None) -> Connection:
    """Paused → active again, when it is authorised and activation's checks pass."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status != ConnectionStatus.PAUSED:
        raise ValidationError(_("Only a paused connection can be resumed."))
    if not connection.is_authorized:
        raise ValidationError(_("Connect again: the connection has no valid authorisation."))
    errors = connection_activation_errors(connection)
    if errors:
        raise ValidationError(errors)
    connection_set_status(connection, ConnectionStatus.ACTIVE)
    audit_record(
        tenant=connection.tenant,
        actor=by_user,
        action="integration.resumed",
        system=connection.system,
    )
    return connection


def connection_may_sync(connection: Connection) -> bool:
    """Whether `connection` may sync now; pauses it (with the reason) when its interface
    has left the subscription."""
    if connection.status != ConnectionStatus.ACTIVE:
        return False
    if not interface_active(connection.tenant, connection.system):
        connection_pause(connection=connection, reason=INTERFACE_GONE, by_user=None)
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
                connection_pause(connection=connection, reason=INTERFACE_GONE, by_user=None)
                paused += 1
    return paused
