"""What the company overview shows of the subscription: the edition, seats in use of the
total, the next period and its cost, the changes scheduled and the last orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from accounts.models import Tenant
from subscriptions.models import OrderConfirmation, ScheduledChange, Subscription
from subscriptions.services import (
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


def subscription_summary(tenant: Tenant) -> SubscriptionSummary | None:
    """The tenant's subscription at a glance (call inside its scope); None without one."""
    subscription = (
        Subscription.objects.select_related("edition", "seller").filter(tenant=tenant).first()
    )
    if subscription is None:
        return None
    subscription.tenant = tenant
    changes = list(pending_changes(subscription))
    orders = list(
        OrderConfirmation.objects.filter(tenant=tenant).only(
            "pk", "tenant_id", "sequence", "kind", "made_on", "currency", "total", "confirmed_at"
        )[:LAST_ORDERS_SHOWN]
    )
    return SubscriptionSummary(
        subscription=subscription,
        seats_in_use=active_licences(tenant),
        upcoming=upcoming_period_price(subscription, changes=changes),
        changes=changes,
        orders=orders,
    )


ENDING_WITHIN_DAYS = 60


@dataclass(frozen=True)
class PartnerOverview:
    ending: list  # PartnerCustomer, agreement ending soonest first
    waiting: list  # PartnerCustomer waiting for the customer's approval


def partner_overview(customers: list, today: date) -> PartnerOverview:
    """Of a partner's `customers` (``partner_customers``): those whose agreement ends within
    `ENDING_WITHIN_DAYS` of `today`, and those waiting for the customer to approve (an
    activation, or the collaboration itself)."""
    horizon = today + timedelta(days=ENDING_WITHIN_DAYS)
    ending = sorted(
        (
            customer
            for customer in customers
            if customer.subscription is not None
            and customer.subscription.agreement_end is not None
            and today <= customer.subscription.agreement_end <= horizon
        ),
        key=lambda customer: (customer.subscription.agreement_end, customer.tenant.name),
    )
    waiting = [
        customer
        for customer in customers
        if customer.pending_activation is not None or customer.is_pending
    ]
    return PartnerOverview(ending=ending, waiting=waiting)
