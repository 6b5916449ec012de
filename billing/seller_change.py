"""After a seller change (a seller migration's switch, billing/migration.py) the company's
admins are asked to check that the number of active licences is right and that the company
details are up to date, until one of them dismisses the prompt (seed 001's last step)."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import AuditAction, audit_record
from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from billing.models import SellerMigrationItem, SellerMigrationItemStatus
from severa import clock


def seller_change_review_pending(*, tenant: Tenant) -> SellerMigrationItem | None:
    """The latest switch of the tenant's subscription not yet reviewed, or None: one query."""
    with tenant_scope(tenant):
        return (
            SellerMigrationItem.objects.filter(
                tenant=tenant,
                status=SellerMigrationItemStatus.SWITCHED,
                review_dismissed_at__isnull=True,
            )
            .select_related("migration__to_seller")
            .order_by("-switched_at", "-pk")
            .first()
        )


def seller_change_review_dismiss(*, tenant: Tenant, actor: User) -> int:
    """Dismiss the prompt for every switch of the tenant not reviewed yet; returns how many
    (0 when there was nothing to dismiss: dismissing twice changes nothing)."""
    with tenant_scope(tenant), transaction.atomic():
        items = list(
            SellerMigrationItem.objects.select_for_update(of=("self",))
            .filter(
                tenant=tenant,
                status=SellerMigrationItemStatus.SWITCHED,
                review_dismissed_at__isnull=True,
            )
            .select_related("migration__to_seller")
        )
        if not items:
            return 0
        now = clock.now()
        SellerMigrationItem.objects.filter(pk__in=[item.pk for item in items]).update(
            review_dismissed_at=now, review_dismissed_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.SELLER_CHANGE_REVIEWED,
            tenant=tenant,
            details={"sellers": sorted({item.migration.to_seller.name for item in items})},
        )
    return len(items)
