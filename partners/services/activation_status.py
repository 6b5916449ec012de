"""A partner activation's status moves: a waiting activation is approved or declined by the
customer's administrator, or cancelled when its collaboration ends. Each move goes through
``activation_status_move``: checked against ``ALLOWED_FROM`` on the locked row, written and
audited in one transaction; a refused move raises and changes and audits nothing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import ActorLike, AuditAction, audit_record
from partners.models import ActivationStatus, PartnerActivation
from severa import clock

ALLOWED_FROM: dict[str, frozenset[str]] = {
    ActivationStatus.APPROVED: frozenset({ActivationStatus.PENDING}),
    ActivationStatus.DECLINED: frozenset({ActivationStatus.PENDING}),
    ActivationStatus.CANCELLED: frozenset({ActivationStatus.PENDING}),
}
MOVE_ACTIONS: dict[str, AuditAction] = {
    ActivationStatus.APPROVED: AuditAction.PARTNER_ACTIVATION_APPROVED,
    ActivationStatus.DECLINED: AuditAction.PARTNER_ACTIVATION_DECLINED,
    ActivationStatus.CANCELLED: AuditAction.PARTNER_ACTIVATION_CANCELLED,
}


def activation_status_move(
    *, activation: PartnerActivation, to: str, actor: ActorLike, fields: dict | None = None
) -> PartnerActivation:
    """Move `activation` to `to` with `fields` (e.g. who approved it) and audit the move.
    The customer's answers are refused once the activation has expired; a cancellation is
    not (the collaboration ends regardless)."""
    fields = fields or {}
    with transaction.atomic():
        locked = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        expired = to != ActivationStatus.CANCELLED and locked.expires_at <= clock.now()
        if locked.status not in ALLOWED_FROM[to] or expired:
            raise ValidationError(_("This activation is no longer waiting for approval."))
        previous = locked.status
        locked.status = to
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *fields])
        audit_record(
            actor=actor,
            action=MOVE_ACTIONS[to],
            tenant=locked.tenant_id,
            partner=locked.partner_id,
            subject=locked,
            details={
                "partner": locked.partner.name,
                "scenario": locked.scenario,
                "from": previous,
            },
        )
    activation.status = to
    for name, value in fields.items():
        setattr(activation, name, value)
    return locked
