"""The catalog: editions, add-ons, interfaces, storage tiers and their prices.

Catalog rows are shared by every tenant; prices are data with validity dates.
"""

import datetime

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from accounts.locale_format import date_format, money_format
from severa.line_texts import line_text_of
from severa.money import CURRENCY_CHOICES


class Edition(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    # Editions are ordered: a higher rank is an upgrade.
    rank = models.PositiveSmallIntegerField(unique=True)
    included_storage_gb = models.PositiveIntegerField(default=10)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class AddOnPricing(models.TextChoices):
    FLAT = "flat", _("Flat price per month")
    PER_SEAT = "per_seat", _("Price per seat per month")


class AddOn(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    pricing = models.CharField(max_length=16, choices=AddOnPricing.choices)
    minimum_edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    included_in = models.ManyToManyField(Edition, blank=True, related_name="included_add_ons")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InterfaceSystem(models.TextChoices):
    FORTNOX = "fortnox", "Fortnox"
    VISMA_GLOBAL = "visma_global", "Visma Global"
    VISMA_EEKONOMI = "visma_eekonomi", "Visma eEkonomi"
    VISMA_NET = "visma_net", "Visma.net ERP"


class Interface(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    system = models.CharField(max_length=32, choices=InterfaceSystem.choices, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StorageTier(models.Model):
    code = models.SlugField(unique=True)
    gigabytes = models.PositiveIntegerField(unique=True)

    class Meta:
        ordering = ["gigabytes"]

    def __str__(self) -> str:
        return f"{self.gigabytes} GB"


class Price(models.Model):
    """A monthly price of exactly one catalog item in one currency, valid over a date range
    [valid_from, valid_until] (open-ended when valid_until is empty)."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    add_on = models.ForeignKey(
        AddOn, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    interface = models.ForeignKey(
        Interface, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    storage_tier = models.ForeignKey(
        StorageTier, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount_per_month = models.DecimalField(max_digits=12, decimal_places=2)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["currency", "valid_from"]
        constraints = [
            models.CheckConstraint(
                name="price_exactly_one_item",
                condition=(
                    Q(edition__isnull=False, add_on=None, interface=None, storage_tier=None)
                    | Q(edition=None, add_on__isnull=False, interface=None, storage_tier=None)
                    | Q(edition=None, add_on=None, interface__isnull=False, storage_tier=None)
                    | Q(edition=None, add_on=None, interface=None, storage_tier__isnull=False)
                ),
            ),
            models.CheckConstraint(name="price_not_negative", condition=Q(amount_per_month__gte=0)),
            models.CheckConstraint(
                name="price_valid_range",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        item = self.edition or self.add_on or self.interface or self.storage_tier
        return _("%(item)s: %(price)s per month from %(date)s") % {
            "item": item,
            "price": money_format(self.amount_per_month, self.currency),
            "date": date_format(self.valid_from),
        }


# Subscriptions, their scheduled changes, quotes and order confirmations: tenant-owned rows,
# each with a direct tenant key and a scoped manager (a query outside a tenant scope raises).


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TERMINATED = "terminated", _("Terminated")


PERIOD_MONTHS = [(1, _("1 month")), (3, _("3 months")), (6, _("6 months")), (12, _("12 months"))]


class Subscription(models.Model):
    """What a tenant has bought: the state that is in force today.

    Decreases live in `ScheduledChange` rows until their effective date. `version` grows with
    every change, so a quote made against one version cannot be confirmed against another.
    """

    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="subscription"
    )
    seller = models.ForeignKey("billing.SellerEntity", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveIntegerField()
    storage_gb = models.PositiveIntegerField()
    # Sorted lists of catalog codes.
    add_ons = models.JSONField(default=list, blank=True)
    interfaces = models.JSONField(default=list, blank=True)
    period_months = models.PositiveSmallIntegerField(choices=PERIOD_MONTHS)
    period_start = models.DateField()
    period_end = models.DateField()
    # Partner agreements (§3.2): no decrease or termination takes effect before this day ends.
    agreement_end = models.DateField(null=True, blank=True)
    # Where a partner pays (§3.8): its orders go on the partner's consolidated invoice.
    invoice_partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.CheckConstraint(name="subscription_seats_positive", condition=Q(seats__gte=1)),
            models.CheckConstraint(
                name="subscription_period_months",
                condition=Q(period_months__in=[1, 3, 6, 12]),
            ),
            models.CheckConstraint(
                name="subscription_period_range", condition=Q(period_end__gt=F("period_start"))
            ),
        ]
        # The rollover's due subscriptions (active, period ended), found without a scan.
        indexes = [
            models.Index(
                fields=["period_end"], condition=Q(status="active"), name="subscription_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.edition_id} × {self.seats}"

    def version_next(self) -> None:
        """Count a change (in memory; the caller saves ``version``): a quote made against an
        earlier version is stale from now on."""
        self.version += 1


class ChangeKind(models.TextChoices):
    EDITION = "edition", _("Edition")
    SEATS = "seats", _("Seats")
    STORAGE = "storage", _("File storage")
    ADD_ON = "add_on", _("Add-on removal")
    INTERFACE = "interface", _("Interface removal")
    TERMINATION = "termination", _("Termination")


class ChangeStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    # Replaced by a later agreement that scheduled the whole next period again.
    SUPERSEDED = "superseded", _("Superseded")
    APPLIED = "applied", _("Applied")


class ScheduledChange(models.Model):
    """A decrease or a termination waiting for the start of a period (§3.3)."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="scheduled_changes"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="scheduled_changes"
    )
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    # The new value: an edition code, a seat count, a storage size in GB, the code of the
    # add-on or interface removed; empty for a termination.
    value = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200)
    # What the change is about and its parameters (`severa.line_texts`): pages show it in
    # the reader's language; `description` is its text in the buyer's, as confirmed.
    text_kind = models.CharField(max_length=40, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    effective_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.SCHEDULED
    )
    order = models.ForeignKey(
        "OrderConfirmation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scheduled_changes",
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["effective_date", "id"]
        indexes = [models.Index(fields=["status", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.description} on {self.effective_date}"

    @property
    def text(self) -> str:
        """The change as the reader's language says it."""

        return line_text_of(self)


class QuoteStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed")


class Quote(models.Model):
    """The Agreement page as shown: the figures are stored, not recomputed on confirmation.

    A quote prices the rest of the current period from its date, so it can only be confirmed
    on the day it was made and against the subscription version it was made from.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="quotes")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="quotes")
    subscription_version = models.PositiveIntegerField()
    made_on = models.DateField()
    desired = models.JSONField()
    content = models.JSONField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Quote {self.pk} ({self.made_on})"

    def stale_reason(self, *, subscription_version: int, today: datetime.date) -> str | None:
        """Why the quote can no longer be confirmed, or None: its pro-rata figures are for the
        day it was made, and for the subscription version it was made from."""
        if self.made_on != today:
            return "quote_of_another_day"
        if subscription_version != self.subscription_version:
            return "subscription_changed"
        return None


class OrderKind(models.TextChoices):
    CHANGE = "change", _("Change")
    RENEWAL = "renewal", _("Renewal")
    ACTIVATION = "activation", _("New subscription")


class OrderConfirmation(models.Model):
    """What the tenant agreed to, frozen: lines, prices, VAT and the buyer as they were.

    Nothing but the rendered PDF and the delivery time may be written after creation.
    """

    MUTABLE_FIELDS = frozenset({"pdf", "pdf_rendered_at", "emailed_at", "invoiced"})

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="order_confirmations"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="order_confirmations"
    )
    # One order per quote: confirming the same quote twice cannot make a second one.
    quote = models.OneToOneField(
        Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="order"
    )
    kind = models.CharField(max_length=16, choices=OrderKind.choices)
    # Numbered per tenant: 1, 2, 3 …; shown as <tenant id>-<sequence>.
    sequence = models.PositiveIntegerField()
    # A renewal orders one period: the period's first day, unique per subscription, so that a
    # rollover run twice (or in two workers at once) cannot order a period twice.
    renewal_period_start = models.DateField(null=True, blank=True)
    made_on = models.DateField()
    confirmed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seller = models.ForeignKey("billing.SellerEntity", on_delete=models.PROTECT, related_name="+")
    # The invoice recipient when a partner pays, fixed when the order is made.
    invoice_partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seller_snapshot = models.JSONField()
    buyer_snapshot = models.JSONField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    vat_category = models.CharField(max_length=4)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    # The VAT note in the buyer's language, and its kind (`severa.vat.VAT_NOTE_KINDS`).
    vat_note = models.CharField(max_length=300, blank=True)
    vat_note_kind = models.CharField(max_length=40, blank=True, default="")
    net = models.DecimalField(max_digits=14, decimal_places=2)
    vat = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    # The state agreed for the next period and its price, as shown on the Agreement page.
    summary = models.JSONField()
    # The seller's terms of service in force when the order was made: confirming an order
    # accepts them (the Agreement page says so).
    terms_version = models.CharField(max_length=40, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set by the invoicing run in the transaction that invoices the order's lines: the run's
    # queue of work is the orders with a charge not invoiced yet (a partial index), so it
    # reads the week's orders, never the whole history.
    invoiced = models.BooleanField(default=False)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        indexes = [
            models.Index(
                fields=["made_on"],
                condition=Q(invoiced=False, net__gt=0),
                name="order_to_invoice",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sequence"], name="order_sequence_unique"),
            models.UniqueConstraint(
                fields=["subscription", "renewal_period_start"],
                condition=Q(renewal_period_start__isnull=False),
                name="order_one_renewal_per_period",
            ),
            models.CheckConstraint(
                name="order_renewal_has_period",
                condition=Q(kind="renewal", renewal_period_start__isnull=False)
                | (~Q(kind="renewal") & Q(renewal_period_start__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS:
                raise ValueError("An order confirmation cannot be changed once confirmed")
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        return f"{self.tenant_id}-{self.sequence:04d}"


class OrderLine(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(OrderConfirmation, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    item_type = models.CharField(max_length=16)
    item_code = models.CharField(max_length=64)
    description = models.CharField(max_length=200)
    # What the line is about and its parameters (`severa.line_texts`): `description` is
    # their text in the buyer's language, rendered when the document was issued; "" is free
    # text.
    text_kind = models.CharField(max_length=40, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    net = models.DecimalField(max_digits=14, decimal_places=2)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("An order line cannot be changed once confirmed")
        super().save(*args, **kwargs)
