"""Support requests (DESIGN §3.8): a partner's edition downgrade can lose the customer's data
and is not self-service; it is filed for the operators, who resolve it.

``partner_edition_change`` is the one entry for a partner's edition change: an upgrade is a
quote to confirm on the Agreement page (effective at once, charged pro rata, §3.3), a
downgrade a support request. The operators' list of open requests is
``partners.selectors.support_requests_open``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import Partner, Tenant, User
from accounts.tenancy import tenant_scope
from partners.models import SupportRequest, SupportRequestStatus
from severa import clock
from subscriptions.models import Quote, Subscription
from subscriptions.pricebook import QuoteError
from subscriptions.services import Desired, edition_downgrade_refuse, quote_create


def support_request_create(
    *, tenant: Tenant, partner: Partner | None, requested_edition: str, message: str, actor: User
) -> SupportRequest:
    with tenant_scope(tenant):
        request = SupportRequest.objects.create(
            tenant=tenant,
            partner=partner,
            requested_edition=requested_edition,
            message=message.strip(),
            created_by=actor,
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action=AuditAction.SUPPORT_REQUESTED,
            tenant=tenant,
            partner=partner,
            subject=request,
            details={"requested_edition": requested_edition},
        )
    return request


def support_request_resolve(*, support_request: SupportRequest, actor: User) -> SupportRequest:
    with tenant_scope(support_request.tenant_id), transaction.atomic():
        locked = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
        if locked.status != SupportRequestStatus.OPEN:
            raise ValidationError(_("This request is already resolved."))
        locked.status = SupportRequestStatus.RESOLVED
        locked.resolved_by = actor
        locked.resolved_at = clock.now()
        locked.save(update_fields=["status", "resolved_by", "resolved_at"])
        audit_record(
            actor=actor,
            action=AuditAction.SUPPORT_RESOLVED,
            tenant=locked.tenant_id,
            partner=locked.partner_id,
            subject=locked,
            details={"request": locked.pk},
        )
    return locked


def partner_edition_change(
    *, tenant: Tenant, partner: Partner, edition: str, message: str, actor: User
) -> Quote | SupportRequest:
    """An upgrade: the quote to confirm (the caller sends the user to its Agreement page).
    A downgrade: a support request for the operators; nothing changes until they act."""
    with tenant_scope(tenant):
        subscription = Subscription.objects.select_related("edition").filter(tenant=tenant).first()
        if subscription is None:
            raise ValidationError({"edition": [_("This customer has no subscription yet.")]})
        if edition == subscription.edition.code:
            raise ValidationError({"edition": [_("This is the customer's edition already.")]})
        try:
            edition_downgrade_refuse(subscription=subscription, edition=edition, on=clock.today())
        except QuoteError as error:
            if error.code != "downgrade_not_self_service":
                raise ValidationError({"edition": [error.message]}) from None
            return support_request_create(
                tenant=tenant,
                partner=partner,
                requested_edition=edition,
                message=message,
                actor=actor,
            )
        try:
            return quote_create(
                subscription=subscription, desired=Desired(edition=edition), actor=actor
            )
        except QuoteError as error:
            raise ValidationError({"edition": [error.message]}) from None
