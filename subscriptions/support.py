"""Who a company asks for support (DESIGN §3.8): its partner, or the seller of its
subscription. The partners' support requests (downgrades) are in ``partners.services.support``.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Collaboration, CollaborationStatus, Tenant
from accounts.tenancy import tenant_scope
from subscriptions.models import Subscription


@dataclass(frozen=True)
class SupportContact:
    """Who a company asks for support: its partner when it has one, otherwise the seller."""

    name: str
    email: str
    is_partner: bool


def support_contact_of_tenant(*, tenant: Tenant) -> SupportContact | None:
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
