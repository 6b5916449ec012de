"""Terms of service and their acceptances."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from billing.models.sellers import SellerEntity


class TermsVersion(models.Model):
    """One version of a seller's terms of service. The seller's current version is the one
    named by ``SellerEntity.terms_version``."""

    seller = models.ForeignKey(
        SellerEntity, on_delete=models.PROTECT, related_name="terms_versions"
    )
    version = models.CharField(_("version"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    url = models.URLField(_("address of the terms"), blank=True)
    published_on = models.DateField(_("published on"))

    class Meta:
        ordering = ["seller", "-published_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "version"], name="terms_version_unique"),
            models.CheckConstraint(
                name="terms_version_text_or_url", condition=~Q(text="") | ~Q(url="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller} terms {self.version}"


class TermsAcceptance(models.Model):
    """A tenant's acceptance of one version of a seller's terms: who, when, which version.
    Append-only; one per tenant, seller and version."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, related_name="terms_acceptances"
    )
    seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept beside the user key: the record must still say who once the user is gone.
    accepted_by = models.CharField(max_length=254)
    accepted_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "seller", "version"], name="terms_acceptance_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"tenant {self.tenant_id} accepted {self.seller_id} terms {self.version}"
