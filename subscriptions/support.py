"""Support requests (DESIGN §3.8): a partner's edition downgrade can lose the customer's data
and is not self-service; it is filed for the operators, who resolve it.

``partner_edition_change`` is the one entry for a partner's edition change: an upgrade is a
quote to confirm on the Agreement page (effective at once, charged pro rata, §3.3), a
downgrade a support request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounts.models import Collaboration, CollaborationStatus, Partner, Tenant, User
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from severa import clock
from subscriptions.catalog import price_book
from subscriptions.models import (
    Edition,
    Quote,
    Subscription,
    SupportRequest,
    SupportRequestStatus,
)
from subscriptions.pricebook import QuoteError
from subscriptions.services import Desired, quote_create


@dataclass(frozen=True)
class SupportContact:
    """Who a company asks for support: its partner when it has one, otherwise the seller."""

    name: str
    email: str
    is_partner: bool


def support_contact_of_tenant(tenant: Tenant) -> SupportContact | None:
    """The company's partner with an active collaboration (the earliest, when several), or
    the seller of its subscription; None when it has neither."""
    with tenant_scope(tenant):
        collaboration = (
            Collaboration.objects.filter(status=CollaborationStatus.ACTIVE)
            .select_related("partner")
            .order_by("created_at", "pk")
            .first()
        )
        if collaboration is not None:
            partner = collaboration.partner
            return SupportContact(name=partner.name, email=partner.support_email, is_partner=True)
        subscription = Subscription.objects.select_related("seller").first()
    if subscription is None:
        return None
    seller = subscription.seller
    return SupportContact(name=seller.name, email=seller.support_email, is_partner=False)


def support_request_create(
    *, tenant: Tenant, partner: Partner | None, requested_edition: str, message: str, by: User
) -> SupportRequest:
    with tenant_scope(tenant):
        request = SupportRequest.objects.create(
            tenant=tenant,
            partner=partner,
            requested_edition=requested_edition,
            message=message.strip(),
            created_by=by,
            created_at=clock.now(),
        )
        audit_record(
            tenant=tenant,
            actor=by,
            action="support.requested",
            requested_edition=requested_edition,
        )
    return request


def support_requests_open() -> list[SupportRequest]:
    """Every tenant's open requests: for the operators' page only; each with
    ``requested_edition_name``, the edition as the catalogue names it."""

    with scopes_disabled():
        requests = list(
            SupportRequest.objects.filter(status=SupportRequestStatus.OPEN).select_related(
                "tenant", "partner", "created_by"
            )
        )
    names = dict(Edition.objects.values_list("code", "name"))
    for item in requests:
        item.requested_edition_name = names.get(item.requested_edition, item.requested_edition)
    return requests


def support_request_resolve(*, support_request: SupportRequest, by: User) -> SupportRequest:
    with tenant_scope(support_request.tenant_id), transaction.atomic():
        locked = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
        if locked.status != SupportRequestStatus.OPEN:
            raise ValidationError(_("This request is already resolved."))
        locked.status = SupportRequestStatus.RESOLVED
        locked.resolved_by = by
        locked.resolved_at = clock.now()
        locked.save(update_fields=["status", "resolved_by", "resolved_at"])
        audit_record(tenant=locked.tenant, actor=by, action="support.resolved", request=locked.pk)
    return locked


def partner_edition_change(
    *, tenant: Tenant, partner: Partner, edition: str, message: str, by: User
) -> Quote | SupportRequest:
    """An upgrade: the quote to confirm (the caller sends the user to its Agreement page).
    A downgrade: a support request for the operators; nothing changes until they act."""

    with tenant_scope(tenant):
        subscription = Subscription.objects.select_related("edition").filter(tenant=tenant).first()
        if subscription is None:
            raise ValidationError({"edition": [_("This customer has no subscription yet.")]})
        prices = price_book(subscription.currency, clock.today())
        try:
            wanted = prices.edition_rank(edition)
        except QuoteError as error:
            raise ValidationError({"edition": [error.message]}) from None
        current = prices.edition_rank(subscription.edition.code)
        if wanted == current:
            raise ValidationError({"edition": [_("This is the customer's edition already.")]})
        if wanted < current:
            return support_request_create(
                tenant=tenant,
                partner=partner,
                requested_edition=edition,
                message=message,
                by=by,
            )
        try:
            return quote_create(subscription=subscription, desired=Desired(edition=edition), by=by)
        except QuoteError as error:
            raise ValidationError({"edition": [error.message]}) from None
