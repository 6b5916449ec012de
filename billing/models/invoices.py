"""Invoices, credit notes, their lines and payments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.constraints import tenant_xor_partner
from billing.models.runs import BillingRun
from billing.models.sellers import SellerEntity
from billing.scoping import BuyerScopedManager
from severa.money import CURRENCY_CHOICES


def invoice_display_number(series: str, number: int) -> str:
    """How an invoice or credit note is numbered to its reader: "TEST-42"."""
    return f"{series}-{number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceState(models.TextChoices):
    """Where an issued invoice or credit note is (`billing.invoice_status` moves it); not to be
    confused with `records.InvoiceStatus`, a step of a tenant's own invoice workflow."""

    ISSUED = "issued", _("Issued")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CREDITED = "credited", _("Credited")


class Invoice(models.Model):
    """An issued invoice or credit note: immutable once issued (only its status, payment,
    delivery and stored documents move on)."""

    # The status moves only through billing.invoice_status (conditional updates).
    MUTABLE_FIELDS = frozenset({"pdf", "pdf_rendered_at", "credited_amount"})

    # The recipient: a tenant, or the partner organisation that pays its customers' orders
    # (a consolidated invoice: its lines name each customer, DESIGN §3.8).
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    series = models.CharField(max_length=20)
    number = models.PositiveBigIntegerField()
    # The weekly run that issued it (none for credit notes).
    billing_run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    # On an invoice issued by a credit and reissue: the full credit note of the invoice it
    # replaces (the credit note's `reissue` is this invoice).
    reissue_credit_note = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissue"
    )
    status = models.CharField(
        max_length=16, choices=InvoiceState.choices, default=InvoiceState.ISSUED
    )
    invoice_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    reference = models.CharField(max_length=35)
    seller_snapshot = models.JSONField()
    buyer_snapshot = models.JSONField()
    # The VAT note in the buyer's language, and its kind (`severa.vat.VAT_NOTE_KINDS`).
    vat_note = models.CharField(max_length=300, blank=True)
    vat_note_kind = models.CharField(max_length=40, blank=True, default="")
    net = models.DecimalField(max_digits=14, decimal_places=2)
    vat = models.DecimalField(max_digits=14, decimal_places=2)
    # Cash rounding (whole units for SEK/NOK where the seller rounds): never in the lines.
    rounding = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    credited_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    issued_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["-invoice_date", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "series", "number"], name="invoice_number_unique"
            ),
            # One invoice per recipient per seller per run.
            models.UniqueConstraint(
                fields=["billing_run", "tenant", "seller"],
                condition=Q(billing_run__isnull=False),
                name="invoice_one_per_run_recipient_seller",
            ),
            models.UniqueConstraint(
                fields=["billing_run", "partner", "seller"],
                condition=Q(billing_run__isnull=False, partner__isnull=False),
                name="invoice_one_per_run_partner_seller",
            ),
            tenant_xor_partner("invoice_tenant_or_partner"),
            models.CheckConstraint(
                name="credit_note_references_invoice",
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
            ),
            models.CheckConstraint(
                name="reissue_is_an_invoice",
                condition=Q(reissue_credit_note__isnull=True) | Q(kind="invoice"),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.display_number

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS:
                raise ValueError("An issued invoice cannot be changed; issue a credit note")
        super().save(*args, **kwargs)

    @property
    def display_number(self) -> str:
        return invoice_display_number(self.series, self.number)

    @property
    def recipient(self):
        """The tenant or partner organisation the invoice is addressed to."""
        return self.partner if self.partner_id is not None else self.tenant


class InvoiceLine(models.Model):
    # The customer whose order the line bills; on a partner's consolidated invoice the lines
    # are grouped by it, and `partner` (the invoice's) owns the row: the customer's scope
    # never shows it.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    # The order line this invoices: an order line is invoiced once, whatever runs overlap.
    order_line = models.OneToOneField(
        "subscriptions.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_line",
    )
    # On a reissued invoice: the order line it invoices again (the first invoice's line keeps
    # `order_line`, so the run still sees the order line as invoiced once).
    reissued_order_line = models.ForeignKey(
        "subscriptions.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reissued_invoice_lines",
    )
    # On a credit note: the invoice line it credits (several partial credits may point here).
    credited_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credits"
    )
    order_number = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=200)
    # What the line is about and its parameters (`severa.line_texts`): `description` is
    # their text in the buyer's language, rendered when the document was issued; "" is free
    # text.
    text_kind = models.CharField(max_length=40, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    vat_category = models.CharField(max_length=4)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    net = models.DecimalField(max_digits=14, decimal_places=2)

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("An invoice line cannot be changed once issued")
        super().save(*args, **kwargs)


class Payment(models.Model):
    # The invoice's recipient: a tenant or a partner organisation (exactly one).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    paid_on = models.DateField()
    reference = models.CharField(max_length=64, blank=True)
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = BuyerScopedManager()

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(name="payment_positive", condition=Q(amount__gt=0)),
            tenant_xor_partner("payment_tenant_or_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_on}"


# Seller migration (DESIGN §3.5): moving subscriptions from one seller entity to another in
# cohorts by the start date of their next period, and the new entity's terms of service that
# each tenant's admin accepts at the first sign-in after the switch.
