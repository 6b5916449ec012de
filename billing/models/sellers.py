"""The vendor's seller entities and their bank accounts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from severa.money import CURRENCY_CHOICES


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
    # Who a buyer asks: about an invoice, the seller's invoicing team; otherwise support
    # (unless the buyer has a partner, which gives support instead).
    invoicing_email = models.EmailField(_("invoicing contact e-mail"), blank=True)
    support_email = models.EmailField(_("support e-mail"), blank=True)
    # The seller's own Peppol participant id ("<EAS scheme>:<identifier>", e.g.
    # 0007:5560360793): the sender's endpoint on its e-invoices. Without one the endpoint is
    # derived from the business id.
    peppol_id = models.CharField(_("Peppol participant id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "seller entities"

    def __str__(self) -> str:
        return self.name

    def party(self) -> dict[str, str]:
        """The seller as documents name it: legal name, identifiers and address."""
        return {
            "name": self.name,
            "business_id": self.business_id,
            "vat_number": self.vat_number,
            "street_address": self.street_address,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
            "invoicing_email": self.invoicing_email,
            "support_email": self.support_email,
            "peppol_id": self.peppol_id,
        }


class SellerBankAccount(models.Model):
    seller = models.ForeignKey(SellerEntity, on_delete=models.CASCADE, related_name="bank_accounts")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    # What payers in the account's country expect beside IBAN and BIC (billing/bank_accounts.py
    # checks them on entry): the bank's name, a Norwegian account's domestic number, a
    # Swedish bankgiro or plusgiro number. Digits only.
    bank_name = models.CharField(_("bank name"), max_length=100, blank=True)
    domestic_account_number = models.CharField(
        _("Norwegian account number"), max_length=11, blank=True
    )
    bankgiro = models.CharField(_("bankgiro"), max_length=8, blank=True)
    plusgiro = models.CharField(_("plusgiro"), max_length=8, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "currency"], name="bank_account_one_per_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller} {self.currency} {self.iban}"

    def snapshot(self) -> dict[str, str]:
        """The account as documents freeze it."""
        return {
            "iban": self.iban,
            "bic": self.bic,
            "bank_name": self.bank_name,
            "domestic_account_number": self.domestic_account_number,
            "bankgiro": self.bankgiro,
            "plusgiro": self.plusgiro,
        }
