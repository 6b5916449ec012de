"""Seller legal entities and their bank accounts; tenants' billing details and contacts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

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


class BillingDetails(models.Model):
    """Where and how a tenant is invoiced (DESIGN §3.6). One row per tenant.

    The business id and VAT number stay on ``Tenant`` (the one place every other part of the
    code reads them from); the billing details form edits them there.
    """

    # One-to-one: ``tenant.billing_details`` is the row (or RelatedObjectDoesNotExist).
    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="billing_details"
    )
    street_address = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))
    # Finvoice delivery (Finnish companies): an OVT code or an IBAN, and the intermediator.
    einvoice_address = models.CharField(_("eInvoice address"), max_length=34, blank=True)
    einvoice_operator = models.CharField(_("eInvoice operator"), max_length=35, blank=True)
    # Peppol BIS Billing 3.0 delivery: "<EAS scheme>:<identifier>", e.g. 0216:003715728600.
    peppol_id = models.CharField(_("Peppol participant id"), max_length=64, blank=True)
    updated_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name_plural = "billing details"

    def __str__(self) -> str:
        return f"billing details of tenant {self.tenant_id}"


class BillingContact(models.Model):
    """Someone who gets the tenant's invoices and order confirmations by e-mail: a user of
    the tenant (always at the user's current address) or an external address with a name."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="billing_contacts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="billing_contacts",
    )
    # Only for external contacts; a user contact reads the user's e-mail and name.
    email = models.EmailField(_("e-mail address"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email=""))
                | (Q(user__isnull=True) & ~Q(email="")),
                name="billing_contact_user_or_email",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=Q(user__isnull=False),
                name="billing_contact_unique_user",
            ),
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=~Q(email=""),
                name="billing_contact_unique_email",
            ),
        ]
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"billing contact {self.address} of tenant {self.tenant_id}"

    @property
    def kind(self) -> str:
        return "user" if self.user_id is not None else "external"

    @property
    def address(self) -> str:
        return self.user.email if self.user_id is not None else self.email

    @property
    def display_name(self) -> str:
        if self.user_id is not None:
            return self.user.get_full_name() or self.user.username
        return self.name
