"""The audit log: who did what, to which company or partner, append-only.

Every state or money change writes one event with ``audit_record`` in its own transaction.
The action is an ``AuditAction`` (the stored value is the code, the label is what a reader
sees); the actor is a user (a company user, a partner user, an operator), the system (a
billing run, a relay) or a connection's sync. The event keeps the actor's kind and name and
the subject's kind, id and name as text, so it still reads after the user or the subject is
deleted. An event belongs to a tenant, or to a partner, or to neither (an operator-level
change); a tenant's admins read their company's events, operators everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Partner, PartnerMembership, Tenant, User
from severa import clock


class AuditAction(models.TextChoices):
    # Companies, users and access
    TENANT_PROVISIONED = "tenant.provisioned", _("Company created")
    TENANT_CREATED_FOR_PARTNER = "tenant.created_for_partner", _("Company created by a partner")
    USER_ADDED = "user.added", _("User added")
    USER_ROLE_CHANGED = "user.role_changed", _("User's role changed")
    USER_DEACTIVATED = "user.deactivated", _("User account disabled")
    INVITATION_CREATED = "invitation.created", _("Invitation sent")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    API_TOKENS_REVOKED = "api_token.revoked_all", _("All API tokens revoked")
    TWO_FACTOR_ENABLED = "two_factor.enabled", _("Two-factor sign-in turned on")
    TWO_FACTOR_DISABLED = "two_factor.disabled", _("Two-factor sign-in reset")
    # Subscriptions, orders and licences
    SUBSCRIPTION_CREATED = "subscription.created", _("Subscription created")
    SUBSCRIPTION_RENEWED = "subscription.renewed", _("Subscription renewed")
    SUBSCRIPTION_TERMINATED = "subscription.terminated", _("Subscription ended")
    SUBSCRIPTION_SELLER_CHANGED = "subscription.seller_changed", _("Seller changed")
    CHANGE_CANCELLED = "scheduled_change.cancelled", _("Scheduled change cancelled")
    ORDER_CONFIRMED = "order.confirmed", _("Order confirmed")
    ORDER_INVOICED = "order.invoiced", _("Order invoiced")
    LICENCE_ACTIVATED = "licence.activated", _("Licence activated")
    LICENCE_DEACTIVATED = "licence.deactivated", _("Licence released")
    LICENCE_REFUSED_ON_JOIN = "licence.refused_on_join", _("User joined without a licence")
    # Partners
    PARTNER_CREATED = "partner.created", _("Partner created")
    ENGAGEMENT_CREATED = "partner.engagement_created", _("Engagement added")
    PARTNER_INVITED = "partner.invited", _("Partner invited")
    PARTNER_INVITATION_ACCEPTED = "partner.invitation_accepted", _("Partner accepted")
    PARTNER_COLLABORATION_ENDED = "partner.collaboration_ended", _("Partner's access ended")
    PARTNER_ACTIVATION_CREATED = "partner.activation_created", _("Partner activation made")
    PARTNER_ACTIVATION_APPROVED = "partner.activation_approved", _("Partner activation approved")
    PARTNER_ACTIVATION_DECLINED = "partner.activation_declined", _("Partner activation declined")
    PARTNER_ACTIVATION_CANCELLED = (
        "partner.activation_cancelled",
        _("Partner activation cancelled"),
    )
    SUPPORT_REQUESTED = "support.requested", _("Support request filed")
    SUPPORT_RESOLVED = "support.resolved", _("Support request resolved")
    # Billing
    BILLING_DETAILS_UPDATED = "billing_details.updated", _("Billing details changed")
    BILLING_CONTACT_ADDED = "billing_contact.added", _("Billing contact added")
    BILLING_CONTACT_REMOVED = "billing_contact.removed", _("Billing contact removed")
    TERMS_ACCEPTED = "terms.accepted", _("Terms of service accepted")
    INVOICE_ISSUED = "invoice.issued", _("Invoice issued")
    INVOICE_SENT = "invoice.sent", _("Invoice sent")
    INVOICE_PAID = "invoice.paid", _("Invoice paid")
    INVOICE_OVERDUE = "invoice.overdue", _("Invoice overdue")
    INVOICE_CREDITED = "invoice.credited", _("Invoice credited")
    INVOICE_REISSUED = "invoice.reissued", _("Invoice reissued")
    CREDIT_NOTE_ISSUED = "credit_note.issued", _("Credit note issued")
    PAYMENT_REGISTERED = "payment.registered", _("Payment registered")
    BILLING_RUN_FINISHED = "billing_run.finished", _("Billing run finished")
    BILLING_RUN_FAILED = "billing_run.failed", _("Billing run failed")
    SELLER_CHANGE_REVIEWED = "seller_change.reviewed", _("Seller change reviewed")
    SELLER_MIGRATION_SCHEDULED = "seller_migration.scheduled", _("Seller change scheduled")
    SELLER_MIGRATION_NOTIFIED = "seller_migration.notified", _("Seller change announced")
    SELLER_MIGRATION_CANCELLED = "seller_migration.cancelled", _("Seller change cancelled")
    OUTBOX_MESSAGE_RETRIED = "outbox_message.retried", _("E-mail sent again")
    EINVOICE_DELIVERY_RETRIED = "einvoice_delivery.retried", _("E-invoice sent again")
    # Integrations
    INTEGRATION_CREATED = "integration.created", _("Connection created")
    INTEGRATION_CONNECTED = "integration.connected", _("Connection authorised")
    INTEGRATION_DISCONNECTED = "integration.disconnected", _("Connection disconnected")
    INTEGRATION_PAUSED = "integration.paused", _("Connection paused")
    INTEGRATION_RESUMED = "integration.resumed", _("Connection resumed")
    INTEGRATION_SETTINGS_CHANGED = "integration.settings_changed", _("Connection settings changed")
    INTEGRATION_SEGMENTS_CHANGED = "integration.segments_changed", _("Segment mapping changed")
    INTEGRATION_AGENT_KEY_ISSUED = "integration.agent_key_issued", _("Agent key issued")
    INTEGRATION_AGENT_KEY_ROTATED = "integration.agent_key_rotated", _("Agent key replaced")
    INTEGRATION_AGENT_KEY_REVOKED = "integration.agent_key_revoked", _("Agent key revoked")
    # Business records (people's edits and the syncs')
    BUSINESS_UNIT_CREATED = "records.businessunit.created", _("Business unit added")
    BUSINESS_UNIT_UPDATED = "records.businessunit.updated", _("Business unit changed")
    COST_CENTRE_CREATED = "records.costcentre.created", _("Cost centre added")
    COST_CENTRE_UPDATED = "records.costcentre.updated", _("Cost centre changed")
    EMPLOYEE_CREATED = "records.employee.created", _("Employee added")
    EMPLOYEE_UPDATED = "records.employee.updated", _("Employee changed")
    UNIT_CREATED = "records.unit.created", _("Unit added")
    UNIT_UPDATED = "records.unit.updated", _("Unit changed")
    PRODUCT_CREATED = "records.product.created", _("Product added")
    PRODUCT_UPDATED = "records.product.updated", _("Product changed")
    CUSTOMER_CREATED = "records.customer.created", _("Customer added")
    CUSTOMER_UPDATED = "records.customer.updated", _("Customer changed")
    PROJECT_CREATED = "records.project.created", _("Project added")
    PROJECT_UPDATED = "records.project.updated", _("Project changed")
    PROJECT_FEE_CREATED = "records.projectfee.created", _("Project fee added")
    PROJECT_FEE_UPDATED = "records.projectfee.updated", _("Project fee changed")
    INVOICE_STATUS_CREATED = "records.invoicestatus.created", _("Invoice status added")
    INVOICE_STATUS_UPDATED = "records.invoicestatus.updated", _("Invoice status changed")
    CUSTOMER_INVOICE_CREATED = "records.customerinvoice.created", _("Customer invoice added")
    CUSTOMER_INVOICE_UPDATED = "records.customerinvoice.updated", _("Customer invoice changed")
    CUSTOMER_INVOICE_ATTACHMENT_CREATED = (
        "records.customerinvoiceattachment.created",
        _("Invoice attachment added"),
    )


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    PARTNER_USER = "partner_user", _("Partner user")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")
    CONNECTION = "connection", _("Connection")


@dataclass(frozen=True)
class Actor:
    """Who acts: ``kind`` (an ``ActorKind``), the user when a person acts, and the name the
    event keeps."""

    kind: str
    label: str
    user: User | None = None

    @classmethod
    def of_user(cls, user: User) -> Actor:
        """A person: an operator (a superuser), a partner's user, or a company's user."""
        if user.is_superuser:
            kind = ActorKind.OPERATOR
        elif PartnerMembership.objects.filter(user=user, is_active=True).exists():
            kind = ActorKind.PARTNER_USER
        else:
            kind = ActorKind.USER
        return cls(kind=kind, label=_user_label(user), user=user)

    @classmethod
    def connection(cls, label: str) -> Actor:
        """An accounting system's sync, named by its connection."""
        return cls(kind=ActorKind.CONNECTION, label=label)


# The billing runs, relays and scheduled jobs.
SYSTEM = Actor(kind=ActorKind.SYSTEM, label="system")

ActorLike = Actor | User | None


def actor_of(*, actor: ActorLike) -> Actor:
    """``None`` is the system; a user becomes a person's actor."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, Actor):
        return actor
    return Actor.of_user(actor)


def _user_label(user: User) -> str:
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


# The attributes that name a subject to its reader, in order of preference: a model's
# ``__str__`` is often a developer's sentence in English.
_SUBJECT_NAMES = ("display_number", "number", "email", "name", "to")


def _subject_label(subject: models.Model) -> str:
    if isinstance(subject, User):
        return _user_label(subject)
    display = getattr(subject, "get_system_display", None)
    if callable(display):
        return str(display())
    for name in _SUBJECT_NAMES:
        value = getattr(subject, name, None)
        if isinstance(value, str) and value:
            return value
    return ""


def audit_event_build(
    *,
    actor: ActorLike,
    action: AuditAction,
    tenant: Tenant | int | None = None,
    partner: Partner | int | None = None,
    subject: models.Model | None = None,
    details: dict[str, Any] | None = None,
    subject_ref: tuple[str, Any, str] | None = None,
    at: Any = None,
) -> AuditEvent:
    """The unsaved event (``audit_record`` saves it; a run writing many rows at once
    inserts them with ``audit_events_insert``). ``subject_ref`` (model label, id, name) names
    a subject the caller has not loaded."""
    if not isinstance(action, AuditAction):
        raise TypeError(f"an audit action must be an AuditAction, not {action!r}")
    who = actor_of(actor=actor)
    if subject is not None:
        subject_ref = (subject._meta.label_lower, subject.pk, _subject_label(subject))
    subject_type, subject_id, subject_label = subject_ref or ("", "", "")
    return AuditEvent(
        tenant_id=getattr(tenant, "pk", tenant),
        partner_id=getattr(partner, "pk", partner),
        actor=who.user,
        actor_kind=who.kind,
        actor_label=who.label[:200],
        action=action.value,
        subject_type=subject_type,
        subject_id=str(subject_id),
        subject_label=str(subject_label)[:200],
        details=details or {},
        created_at=at or clock.now(),
    )


def audit_record(
    *,
    actor: ActorLike,
    action: AuditAction,
    tenant: Tenant | int | None = None,
    partner: Partner | int | None = None,
    subject: models.Model | None = None,
    subject_ref: tuple[str, Any, str] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one event; call it inside the transaction of the change it records."""
    event = audit_event_build(
        actor=actor,
        action=action,
        tenant=tenant,
        partner=partner,
        subject=subject,
        subject_ref=subject_ref,
        details=details,
    )
    event.save(force_insert=True)
    return event


def audit_events_insert(*, events: list[AuditEvent]) -> None:
    """Write events built with ``audit_event_build`` in one INSERT (a run's many moves)."""
    if events:
        with scopes_disabled():
            AuditEvent.objects.bulk_create(events)


def audit_action_label(*, value: str) -> str:
    """The reader's words for a stored action; an action no longer known reads as stored."""
    try:
        return str(AuditAction(value).label)
    except ValueError:
        return value
