"""Tenants (customer companies), users, memberships and roles, partners and operators."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from accounts.scoping import BuyerScopedManager

# Sent after a queryset's update() with the model as sender and ``ids``, the primary keys of
# the rows it changed: update() sends no save signals, and the request cache
# (accounts/request_cache.py) must still forget those rows.
rows_updated = Signal()


class UpdateAnnouncingQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        if ids:
            rows_updated.send(sender=self.model, ids=ids)
        return count


class AnnouncingUserManager(UserManager.from_queryset(UpdateAnnouncingQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in. A Django superuser is an operator (the vendor's staff)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    # Django overwrites last_login at sign-in; the previous value is what the user wants to
    # see ("your last sign-in was ...") to notice someone else's use of the account.
    previous_login_at = models.DateTimeField(null=True, blank=True)

    objects = AnnouncingUserManager()

    @property
    def is_operator(self) -> bool:
        return self.is_active and self.is_superuser


class Tenant(models.Model):
    """A customer company of the project-management SaaS: the unit of isolation."""

    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))
    business_id = models.CharField(_("business id"), max_length=40, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    BILLING = "billing", _("Billing")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    """A user's place in a tenant. An active membership uses a licence (seat)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(
        tenant="tenant", _manager_class=models.Manager.from_queryset(UpdateAnnouncingQuerySet)
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"


class Partner(models.Model):
    """A reseller or accounting office that manages its customers' subscriptions."""

    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    business_id = models.CharField(_("business id"), max_length=40, blank=True)
    # Where its customers ask for support (it gives support instead of the seller).
    support_email = models.EmailField(_("support e-mail"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMembership(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="partner_memberships")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "user"], name="partner_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ partner {self.partner_id}"


class CollaborationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Collaboration(models.Model):
    """A partner's access to one customer tenant, tied to an engagement on its side."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="collaborations")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="collaborations")
    engagement = models.CharField(_("engagement"), max_length=200)
    status = models.CharField(
        max_length=16, choices=CollaborationStatus.choices, default=CollaborationStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            # At most one live collaboration per pair; ended ones stay as history.
            models.UniqueConstraint(
                fields=["tenant", "partner"],
                condition=~Q(status="ended"),
                name="collaboration_one_live_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"partner {self.partner_id} ↔ tenant {self.tenant_id} ({self.status})"


class Invitation(models.Model):
    """An e-mailed invitation to join a tenant. The token is stored hashed."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email}"


class AuditEvent(models.Model):
    """Who did what, append-only (written by ``accounts.audit.audit_record``).

    An event belongs to a tenant, to a partner, or to neither (an operator-level change). The
    manager is tenant-scoped: in a tenant's scope only that tenant's events show, so partner
    and operator events (no tenant) never appear on a company's page; operators read them all
    with scopes disabled. The actor's and the subject's names are kept as text, so an event
    still reads after either is deleted."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_kind = models.CharField(max_length=16, default="system")
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_newest"),
            models.Index(fields=["partner", "-created_at"], name="audit_partner_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or self.actor_id}"


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # What the message told about was withdrawn before it went out (e.g. an invoice link
    # revoked when its billing contact was removed).
    CANCELLED = "cancelled", _("Cancelled")


class OutboxMessage(models.Model):
    """An e-mail, written in the same transaction as what it tells about and sent by the relay
    (accounts/outbox.py) with retries: every e-mail the service sends is one of these."""

    # Whose the message is: a tenant's, a partner organisation's, or neither (mail about a
    # user's own account: a password reset, an API token).
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The template it was rendered from ("invoice_link", "order_confirmation", …).
    kind = models.CharField(max_length=64)
    # The recipient's address; a notice to a company's admins names them all, comma-separated
    # (one e-mail, as they always got it).
    to = models.CharField(max_length=2000)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # One attached file (an order confirmation's PDF); emptied once the message is sent.
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.BinaryField(null=True, blank=True)
    # What makes the message unique, e.g. "invoice:42:link:ap@example.com": a second
    # delivery of the same thing collides here instead of sending twice.
    dedupe_key = models.CharField(max_length=400, unique=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = BuyerScopedManager()

    class Meta:
        # The table billing created (billing 0004) when the outbox carried invoices only.
        db_table = "billing_outboxmessage"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_message_due",
            ),
            models.Index(fields=["status", "-created_at"], name="outbox_message_status"),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_message_not_both_tenant_or_partner",
                condition=Q(tenant__isnull=True) | Q(partner__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
