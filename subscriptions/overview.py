"""What the company overview shows of the subscription: the edition, seats in use of the
total, the next period and its cost, the changes scheduled and the last orders."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Tenant
from subscriptions.models import OrderConfirmation, ScheduledChange, Subscription
from subscriptions.selectors import (
    PeriodPrice,
    active_licences,
    pending_changes,
    upcoming_period_price,
)

LAST_ORDERS_SHOWN = 5


@dataclass(frozen=True)
class SubscriptionSummary:
    subscription: Subscription
    seats_in_use: int
    upcoming: PeriodPrice | None
    changes: list[ScheduledChange]
    orders: list[OrderConfirmation]

    @property
    def seats_full(self) -> bool:
        return self.seats_in_use >= self.subscription.seats


def subscription_summary(*, tenant: Tenant) -> SubscriptionSummary | None:
    """The tenant's subscription at a glance (call inside its scope); None without one."""
    subscription = (
        Subscription.objects.select_related("edition", "seller").filter(tenant=tenant).first()
    )
    if subscription is None:
        return None
    subscription.tenant = tenant
    changes = list(pending_changes(subscription=subscription))
    orders = list(
        OrderConfirmation.objects.filter(tenant=tenant).only(
            "pk", "tenant_id", "sequence", "kind", "made_on", "currency", "total", "confirmed_at"
        )[:LAST_ORDERS_SHOWN]
    )
    return SubscriptionSummary(
        subscription=subscription,
        seats_in_use=active_licences(tenant=tenant),
        upcoming=upcoming_period_price(subscription=subscription, changes=changes),
        changes=changes,
        orders=orders,
    )
