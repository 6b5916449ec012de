"""The partner's engagements ("tasks", DESIGN §3.8): a collaboration needs one tied to its
customer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import ActorLike, AuditAction, audit_record
from accounts.models import Partner, Tenant
from partners.models import Engagement
from severa import clock


@transaction.atomic
def engagement_create(
    *, partner: Partner, name: str, actor: ActorLike, customer: Tenant | None = None
) -> Engagement:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"engagement": [_("Name the engagement.")]})
    engagement = Engagement.objects.create(
        partner=partner, name=name, customer=customer, created_at=clock.now()
    )
    audit_record(
        actor=actor, action=AuditAction.ENGAGEMENT_CREATED, partner=partner, subject=engagement
    )
    return engagement


def engagement_tie(*, engagement: Engagement, tenant: Tenant) -> None:
    """A collaboration needs an engagement tied to its customer: tie a free one, refuse one
    that belongs to another customer."""
    if engagement.customer_id is None:
        engagement.customer = tenant
        engagement.save(update_fields=["customer"])
    elif engagement.customer_id != tenant.pk:
        raise ValidationError({"engagement": [_("This engagement is tied to another customer.")]})
