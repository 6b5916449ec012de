"""Seller legal entities and their bank accounts."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from subscriptions.models import CURRENCIES


class SellerEntity(models.Model):
    """A legal company that issues invoices."""

    name = models.CharField(_("legal name"), max_length=200)
    business_id = models.CharField(_("business id"), max_length=40)
    vat_number = models.CharField(_("VAT number"), max_length=40)
    street_address = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2)
    payment_terms_days = models.PositiveSmallIntegerField(default=14)
    invoice_series = models.CharField(max_length=20, default="INV")
    cash_rounding = models.BooleanField(
        default=False, help_text=_("Round SEK and NOK invoice totals to whole units.")
    )
    terms_version = models.CharField(_("terms of service version"), max_length=40)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "seller entities"

    def __str__(self) -> str:
        return self.name


class SellerBankAccount(models.Model):
    seller = models.ForeignKey(SellerEntity, on_delete=models.CASCADE, related_name="bank_accounts")
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "currency"], name="bank_account_one_per_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller} {self.currency} {self.iban}"
