"""The catalog: editions, add-ons, interfaces, storage tiers and their prices.

Catalog rows are shared by every tenant; prices are data with validity dates.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CURRENCIES = [("EUR", "EUR"), ("SEK", "SEK"), ("NOK", "NOK"), ("DKK", "DKK")]


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
    currency = models.CharField(max_length=3, choices=CURRENCIES)
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
        return f"{item}: {self.amount_per_month} {self.currency}/month from {self.valid_from}"
