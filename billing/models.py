"""Seller legal entities and their bank accounts; tenants' billing details and contacts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from billing.scoping import BuyerScopedManager
from severa.money import CURRENCY_CHOICES


def _tenant_xor_partner(name: str) -> models.CheckConstraint:
    """A row belongs to a tenant or to a partner organisation, never both or neither."""
    return models.CheckConstraint(
        name=name,
        condition=Q(tenant__isnull=False, partner__isnull=True)
        | Q(tenant__isnull=True, partner__isnull=False),
    )


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
        constraints = [_tenant_xor_partner("billing_details_tenant_or_partner")]

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
            _tenant_xor_partner("billing_contact_tenant_or_partner"),
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


class InvoiceCounter(models.Model):
    """The next number of one seller's series, locked with SELECT … FOR UPDATE inside the
    issuing transaction: a rolled-back issue gives its number back, so numbers have no gaps."""

    seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="counters")
    series = models.CharField(max_length=20)
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "series"], name="invoice_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.seller} {self.series}: next {self.next_number}"


class BillingRunKind(models.TextChoices):
    ROLLOVER = "rollover", _("Period rollover")
    INVOICING = "invoicing", _("Invoicing run")
    OVERDUE = "overdue", _("Overdue marking")


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class BillingRun(models.Model):
    """One job for one date. The unique key makes a second run of the same job for the same
    date the same row: a re-run continues it instead of starting another."""

    kind = models.CharField(max_length=16, choices=BillingRunKind.choices)
    run_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-run_date", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "run_date"], name="billing_run_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.run_date}"


class BillingRunChunkStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class BillingRunChunk(models.Model):
    """One share of a run's work, claimed by one worker at a time (`billing.chunks`): the
    subscriptions a rollover renews, or the orders of the recipients an invoicing run
    invoices. A worker claims an open chunk with `SELECT … FOR UPDATE SKIP LOCKED` and does
    its work in the same transaction: done and committed together, or, if the worker dies,
    rolled back together and left open for another."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    # Subscription ids (rollover) or order ids (invoicing).
    items = models.JSONField()
    status = models.CharField(
        max_length=8, choices=BillingRunChunkStatus.choices, default=BillingRunChunkStatus.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="billing_run_chunk_unique"),
        ]
        indexes = [
            models.Index(
                fields=["run", "number"],
                condition=Q(status="open"),
                name="billing_run_chunk_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} #{self.number}"


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
            _tenant_xor_partner("invoice_tenant_or_partner"),
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
            _tenant_xor_partner("payment_tenant_or_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_on}"


# Seller migration (DESIGN §3.5): moving subscriptions from one seller entity to another in
# cohorts by the start date of their next period, and the new entity's terms of service that
# each tenant's admin accepts at the first sign-in after the switch.


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


class SellerMigrationStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    NOTIFIED = "notified", _("Notified")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# A migration that may still notify, switch or be cancelled.
OPEN_MIGRATION_STATUSES = frozenset(
    {SellerMigrationStatus.SCHEDULED, SellerMigrationStatus.NOTIFIED}
)


class SellerMigration(models.Model):
    """A cohort: the subscriptions of `from_seller` whose next period starts on
    `cohort_start` move to `to_seller` on that day, before the rollover orders the period."""

    from_seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="+")
    to_seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="+")
    cohort_start = models.DateField()
    # The notice e-mail goes out at the latest this many days before the cohort starts.
    notice_days = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(
        max_length=16,
        choices=SellerMigrationStatus.choices,
        default=SellerMigrationStatus.SCHEDULED,
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-cohort_start", "-id"]
        constraints = [
            models.CheckConstraint(
                name="seller_migration_two_sellers", condition=~Q(from_seller=models.F("to_seller"))
            ),
            models.CheckConstraint(
                name="seller_migration_first_of_month", condition=Q(cohort_start__day=1)
            ),
            # One live cohort per seller and date: scheduling it twice cannot move anyone twice.
            models.UniqueConstraint(
                fields=["from_seller", "cohort_start"],
                condition=~Q(status="cancelled"),
                name="seller_migration_one_per_cohort",
            ),
        ]
        indexes = [models.Index(fields=["status", "cohort_start"], name="seller_migration_due")]

    def __str__(self) -> str:
        return f"{self.from_seller} → {self.to_seller} from {self.cohort_start}"


class SellerMigrationItemStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    NOTIFIED = "notified", _("Notified")
    SWITCHED = "switched", _("Switched")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Items still waiting for their switch.
OPEN_MIGRATION_ITEM_STATUSES = frozenset(
    {SellerMigrationItemStatus.SCHEDULED, SellerMigrationItemStatus.NOTIFIED}
)


class SellerMigrationItem(models.Model):
    """One subscription of a cohort, with its notice and its switch."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, related_name="seller_migration_items"
    )
    migration = models.ForeignKey(SellerMigration, on_delete=models.PROTECT, related_name="items")
    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(
        max_length=16,
        choices=SellerMigrationItemStatus.choices,
        default=SellerMigrationItemStatus.SCHEDULED,
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    notice_recipients = models.JSONField(default=list, blank=True)
    switched_at = models.DateTimeField(null=True, blank=True)
    # Why an item was skipped, or why its notice could not go out.
    note = models.CharField(max_length=300, blank=True)
    # After the switch the tenant's admins are asked to check their active licences and
    # company details (billing/seller_change.py) until one of them dismisses the prompt.
    review_dismissed_at = models.DateTimeField(null=True, blank=True)
    review_dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["migration", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "subscription"], name="seller_migration_item_unique"
            ),
            # A subscription waits in one cohort at a time.
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status__in=["scheduled", "notified"]),
                name="seller_migration_item_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.subscription_id} in migration {self.migration_id}"


# Invoice delivery (DESIGN §3.7): a link per invoice and recipient, its views, and the
# e-mail outbox that carries the links.


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
            _tenant_xor_partner("invoice_link_tenant_or_partner"),
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
        constraints = [_tenant_xor_partner("invoice_link_view_tenant_or_partner")]

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
        constraints = [_tenant_xor_partner("invoice_message_tenant_or_partner")]

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
            _tenant_xor_partner("einvoice_delivery_tenant_or_partner"),
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
