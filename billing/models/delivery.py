"""How invoices reach buyers: e-mailed links, their views and messages, e-invoice deliveries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.constraints import tenant_xor_partner
from billing.models.contacts import BillingContact
from billing.models.invoices import Invoice
from billing.scoping import BuyerScopedManager


class InvoiceLink(models.Model):
    """An e-mailed link to one invoice for one recipient. Only the token's SHA-256 is
    stored; the token itself lives in the e-mail (and in the outbox row until it is sent)."""

    # The invoice's recipient: a tenant or a partner organisation (exactly one).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="links")
    # The billing contact it was sent to; removing the contact revokes the link first.
    contact = models.ForeignKey(
        BillingContact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_links",
    )
    # The address it was sent to, lower case: the natural key with the invoice.
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["invoice", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "email"], name="invoice_link_one_per_recipient"
            ),
            tenant_xor_partner("invoice_link_tenant_or_partner"),
        ]

    def __str__(self) -> str:
        return f"link to {self.invoice_id} for {self.email}"


class InvoiceLinkViewKind(models.TextChoices):
    VIEW = "view", _("Viewed")
    PDF = "pdf", _("PDF downloaded")


class InvoiceLinkView(models.Model):
    """One opening of an invoice link (the page or its PDF)."""

    # The invoice's recipient: a tenant or a partner organisation (exactly one).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    link = models.ForeignKey(InvoiceLink, on_delete=models.CASCADE, related_name="views")
    kind = models.CharField(max_length=8, choices=InvoiceLinkViewKind.choices)
    viewed_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["-viewed_at", "-id"]
        constraints = [tenant_xor_partner("invoice_link_view_tenant_or_partner")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.link_id} at {self.viewed_at}"


class InvoiceMessage(models.Model):
    """The invoice and link an outbox message (accounts.OutboxMessage) carries: the invoice
    moves to sent once its messages went out, and a revoked link cancels its unsent one."""

    message = models.OneToOneField(
        "accounts.OutboxMessage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="invoice_message",
    )
    # The invoice's recipient: a tenant or a partner organisation (exactly one).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="messages")
    link = models.ForeignKey(
        InvoiceLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )

    objects = BuyerScopedManager()

    class Meta:
        constraints = [tenant_xor_partner("invoice_message_tenant_or_partner")]

    def __str__(self) -> str:
        return f"message {self.message_id} of invoice {self.invoice_id}"


class EInvoiceChannel(models.TextChoices):
    FINVOICE = "finvoice", _("Finvoice")
    PEPPOL = "peppol", _("Peppol")


class EInvoiceDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EInvoiceDelivery(models.Model):
    """An invoice's e-invoice on its way to the buyer's operator or Peppol access point
    (billing/einvoice/delivery.py): the document is generated once when queued and sent,
    with retries, exactly as stored."""

    # The invoice's recipient: a tenant or a partner organisation (exactly one).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="einvoice_deliveries"
    )
    channel = models.CharField(max_length=16, choices=EInvoiceChannel.choices)
    document = models.BinaryField(editable=False)
    status = models.CharField(
        max_length=16,
        choices=EInvoiceDeliveryStatus.choices,
        default=EInvoiceDeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # What the transport answered: the dropped file's path, the operator's message id.
    remote_reference = models.CharField(max_length=500, blank=True)

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "channel"], name="einvoice_delivery_one_per_channel"
            ),
            tenant_xor_partner("einvoice_delivery_tenant_or_partner"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="einvoice_delivery_due",
            ),
            models.Index(fields=["status", "-created_at"], name="einvoice_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} of invoice {self.invoice_id} ({self.status})"
