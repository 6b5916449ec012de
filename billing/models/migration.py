"""Seller migrations: moving buyers from one seller entity to another."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from billing.models.sellers import SellerEntity
from severa.money import CURRENCY_CHOICES


class SellerMigrationStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    NOTIFIED = "notified", _("Notified")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# A migration that may still notify, switch or be cancelled.
OPEN_MIGRATION_STATUSES = frozenset(
    {SellerMigrationStatus.SCHEDULED, SellerMigrationStatus.NOTIFIED}
)


class SellerMigration(models.Model):
    """A cohort: the subscriptions of `from_seller` whose next period starts on
    `cohort_start` move to `to_seller` on that day, before the rollover orders the period."""

    from_seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="+")
    to_seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="+")
    cohort_start = models.DateField()
    # The notice e-mail goes out at the latest this many days before the cohort starts.
    notice_days = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(
        max_length=16,
        choices=SellerMigrationStatus.choices,
        default=SellerMigrationStatus.SCHEDULED,
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-cohort_start", "-id"]
        constraints = [
            models.CheckConstraint(
                name="seller_migration_two_sellers", condition=~Q(from_seller=models.F("to_seller"))
            ),
            models.CheckConstraint(
                name="seller_migration_first_of_month", condition=Q(cohort_start__day=1)
            ),
            # One live cohort per seller and date: scheduling it twice cannot move anyone twice.
            models.UniqueConstraint(
                fields=["from_seller", "cohort_start"],
                condition=~Q(status="cancelled"),
                name="seller_migration_one_per_cohort",
            ),
        ]
        indexes = [models.Index(fields=["status", "cohort_start"], name="seller_migration_due")]

    def __str__(self) -> str:
        return f"{self.from_seller} → {self.to_seller} from {self.cohort_start}"


class SellerMigrationItemStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    NOTIFIED = "notified", _("Notified")
    SWITCHED = "switched", _("Switched")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Items still waiting for their switch.
OPEN_MIGRATION_ITEM_STATUSES = frozenset(
    {SellerMigrationItemStatus.SCHEDULED, SellerMigrationItemStatus.NOTIFIED}
)


class SellerMigrationItem(models.Model):
    """One subscription of a cohort, with its notice and its switch."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, related_name="seller_migration_items"
    )
    migration = models.ForeignKey(SellerMigration, on_delete=models.PROTECT, related_name="items")
    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(
        max_length=16,
        choices=SellerMigrationItemStatus.choices,
        default=SellerMigrationItemStatus.SCHEDULED,
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    notice_recipients = models.JSONField(default=list, blank=True)
    switched_at = models.DateTimeField(null=True, blank=True)
    # Why an item was skipped, or why its notice could not go out.
    note = models.CharField(max_length=300, blank=True)
    # After the switch the tenant's admins are asked to check their active licences and
    # company details (billing/seller_change.py) until one of them dismisses the prompt.
    review_dismissed_at = models.DateTimeField(null=True, blank=True)
    review_dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["migration", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "subscription"], name="seller_migration_item_unique"
            ),
            # A subscription waits in one cohort at a time.
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status__in=["scheduled", "notified"]),
                name="seller_migration_item_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.subscription_id} in migration {self.migration_id}"


# Invoice delivery (DESIGN §3.7): a link per invoice and recipient, its views, and the
# e-mail outbox that carries the links.
