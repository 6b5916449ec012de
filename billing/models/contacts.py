"""A buyer's billing details and billing contacts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from billing.models.constraints import tenant_xor_partner
from billing.scoping import BuyerScopedManager


class BillingDetails(models.Model):
    """Where and how a tenant, or a partner organisation that pays its customers'
    subscriptions, is invoiced (DESIGN §3.6, §3.8). One row per tenant or partner.

    A tenant's business id and VAT number stay on ``Tenant`` (the one place every other part
    of the code reads them from); the billing details form edits them there. A partner's
    VAT number is here (``Partner`` has none) and its business id on ``Partner``.
    """

    # One-to-one: ``tenant.billing_details`` is the row (or RelatedObjectDoesNotExist).
    tenant = models.OneToOneField(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="billing_details",
    )
    partner = models.OneToOneField(
        "accounts.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="billing_details",
    )
    # Partners only (a tenant's is on Tenant).
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    street_address = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))
    # Finvoice delivery (Finnish companies): an OVT code or an IBAN, and the intermediator.
    einvoice_address = models.CharField(_("eInvoice address"), max_length=34, blank=True)
    einvoice_operator = models.CharField(_("eInvoice operator"), max_length=35, blank=True)
    # Peppol BIS Billing 3.0 delivery: "<EAS scheme>:<identifier>", e.g. 0216:003715728600.
    peppol_id = models.CharField(_("Peppol participant id"), max_length=64, blank=True)
    # The company's own account (an IBAN, compact): kept with its details, not used to pay.
    bank_account = models.CharField(_("bank account (IBAN)"), max_length=34, blank=True)
    updated_at = models.DateTimeField()

    objects = BuyerScopedManager()

    class Meta:
        verbose_name_plural = "billing details"
        constraints = [tenant_xor_partner("billing_details_tenant_or_partner")]

    def __str__(self) -> str:
        if self.partner_id is not None:
            return f"billing details of partner {self.partner_id}"
        return f"billing details of tenant {self.tenant_id}"


class BillingContact(models.Model):
    """Someone who gets the tenant's invoices and order confirmations by e-mail: a user of
    the tenant (always at the user's current address) or an external address with a name."""

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="billing_contacts",
    )
    # A partner organisation's contact (its users or external addresses) instead.
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="billing_contacts",
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

    objects = BuyerScopedManager()

    class Meta:
        constraints = [
            tenant_xor_partner("billing_contact_tenant_or_partner"),
            models.UniqueConstraint(
                fields=["partner", "user"],
                condition=Q(user__isnull=False, partner__isnull=False),
                name="billing_contact_partner_unique_user",
            ),
            models.UniqueConstraint(
                "partner",
                Lower("email"),
                condition=~Q(email="") & Q(partner__isnull=False),
                name="billing_contact_partner_unique_email",
            ),
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
        owner = f"partner {self.partner_id}" if self.partner_id else f"tenant {self.tenant_id}"
        return f"billing contact {self.address} of {owner}"

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


# Invoicing: runs, invoices and credit notes, their numbering and payments.
