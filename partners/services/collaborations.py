"""Ending a collaboration, from either side (DESIGN §3.8)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import Collaboration, CollaborationStatus, Partner, Tenant, User
from accounts.tenancy import tenant_scope
from partners.models import ActivationStatus, PartnerActivation
from partners.services.activation_status import activation_status_move
from severa import clock


def collaboration_live_locked(*, tenant: Tenant, partner: Partner) -> Collaboration | None:
    """The pair's collaboration that has not ended, locked (inside a transaction)."""
    return (
        Collaboration.objects.select_for_update()
        .filter(tenant=tenant, partner=partner)
        .exclude(status=CollaborationStatus.ENDED)
        .first()
    )


def collaboration_end(*, tenant: Tenant, partner: Partner, actor: User) -> Collaboration:
    """Either side ends the collaboration: the partner's very next request for the tenant is
    a 404 (``tenant_access`` only counts active collaborations); waiting activations are
    cancelled with it."""
    with tenant_scope(tenant), transaction.atomic():
        collaboration = collaboration_live_locked(tenant=tenant, partner=partner)
        if collaboration is None:
            raise ValidationError(_("There is no collaboration to end."))
        collaboration.status = CollaborationStatus.ENDED
        collaboration.ended_at = clock.now()
        collaboration.save(update_fields=["status", "ended_at"])
        for activation in PartnerActivation.objects.filter(
            partner=partner, status=ActivationStatus.PENDING
        ):
            activation_status_move(
                activation=activation, to=ActivationStatus.CANCELLED, actor=actor
            )
        audit_record(
            actor=actor,
            action=AuditAction.PARTNER_COLLABORATION_ENDED,
            tenant=tenant,
            partner=partner,
            subject=collaboration,
            details={"partner": partner.name},
        )
    return collaboration
