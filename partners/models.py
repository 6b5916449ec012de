"""Partner rows (DESIGN §3.8): engagements ("tasks"), activations waiting for the customer's
approval, invitations from a customer to a partner, the partner terms and who accepted them,
and support requests for downgrades.

The partner organisation itself, its users and its collaborations stay in ``accounts``
(tenancy decides access by them). These tables were created by the subscriptions app and
keep its names (``db_table``): the move to this app changed no row (migrations
``subscriptions 0011`` and ``partners 0001``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Engagement(models.Model):
    """A task on the partner's side; a collaboration needs one tied to its customer.

    Owned by the partner (no ``tenant`` key): ``customer`` is set once the engagement is tied
    to a customer company.
    """

    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, related_name="engagements"
    )
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField()

    class Meta:
        db_table = "subscriptions_engagement"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ActivationScenario(models.TextChoices):
    # The three ways in of §3.8.
    EXISTING_SUBSCRIPTION = "existing_subscription", _("Customer with a subscription")
    EXISTING_CUSTOMER = "existing_customer", _("Customer without a subscription")
    NEW_CUSTOMER = "new_customer", _("New customer")


class InvoiceRecipient(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner")


class ActivationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")
    DECLINED = "declined", _("Declined")


AGREEMENT_MONTHS = [(3, _("3 months")), (12, _("12 months"))]


class PartnerActivation(models.Model):
    """A partner's activation of a collaboration (and, for customers without one, a
    subscription), waiting for the customer's administrator to approve it by a link."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="partner_activations"
    )
    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="+")
    collaboration = models.ForeignKey(
        "accounts.Collaboration", on_delete=models.PROTECT, related_name="activations"
    )
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="+")
    scenario = models.CharField(max_length=32, choices=ActivationScenario.choices)
    # Empty for a customer that keeps its subscription (nothing changes until renewal).
    edition = models.CharField(max_length=32, blank=True)
    seats = models.PositiveIntegerField(null=True, blank=True)
    invoice_recipient = models.CharField(
        max_length=16, choices=InvoiceRecipient.choices, default=InvoiceRecipient.CUSTOMER
    )
    agreement_months = models.PositiveSmallIntegerField(
        choices=AGREEMENT_MONTHS, null=True, blank=True
    )
    seller = models.ForeignKey(
        "billing.SellerEntity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(
        max_length=16, choices=ActivationStatus.choices, default=ActivationStatus.PENDING
    )
    # The administrator created for a new customer (set password through this invitation).
    admin_invitation = models.ForeignKey(
        "accounts.Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The mandatory administrator contact of a new customer.
    admin_name = models.CharField(max_length=200, blank=True)
    admin_email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        db_table = "subscriptions_partneractivation"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="partner_activation_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["tenant", "partner"],
                condition=Q(status="pending"),
                name="partner_activation_one_pending_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"activation of partner {self.partner_id} for tenant {self.tenant_id}"

    @property
    def sells_subscription(self) -> bool:
        """Whether approving starts a subscription: the partner picked one for a company
        that has none (a company with one keeps it; the partner's pick is only kept)."""
        return self.scenario != ActivationScenario.EXISTING_SUBSCRIPTION and bool(self.edition)


class PartnerInvitation(models.Model):
    """A customer's invitation to a partner to collaborate; the token is stored hashed."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="partner_invitations"
    )
    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        db_table = "subscriptions_partnerinvitation"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of partner {self.partner_id} by tenant {self.tenant_id}"


class SupportRequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class SupportRequest(models.Model):
    """A change that is not self-service (a downgrade from a partner), for the operators."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="support_requests"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_edition = models.CharField(_("requested edition"), max_length=32)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        max_length=16, choices=SupportRequestStatus.choices, default=SupportRequestStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        db_table = "subscriptions_supportrequest"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"support request of tenant {self.tenant_id} ({self.status})"


class PartnerTermsVersion(models.Model):
    """A version of the terms a partner accepts when it takes up a customer's invitation
    (seed 003); the current one is the latest published on or before today."""

    version = models.CharField(_("version"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("address"), blank=True)
    text = models.TextField(_("text"), blank=True)
    published_on = models.DateField(_("published on"))

    class Meta:
        db_table = "subscriptions_partnertermsversion"
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return f"partner terms {self.version}"


class PartnerTermsAcceptance(models.Model):
    """Who of a partner accepted which partner terms, when, and on which invitation.

    Owned by the partner (no ``tenant`` key); append-only."""

    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, related_name="terms_acceptances"
    )
    version = models.CharField(max_length=40)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField()
    invitation = models.ForeignKey(
        PartnerInvitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "subscriptions_partnertermsacceptance"
        ordering = ["-accepted_at", "-id"]

    def __str__(self) -> str:
        return f"partner {self.partner_id} accepted {self.version}"
