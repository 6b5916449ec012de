"""The tenant's business records (DESIGN §3.9): what integrations sync with the tenant's
accounting or ERP system. Every row carries its tenant; ``updated_at`` is indexed because
the sync engine selects the rows changed since its last run.

No rules here: every check (digits-only product codes, identifiers, uniqueness with a clear
message) is in ``records.services``; the constraints below are the database's last word.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from records.totals import row_net
from severa import clock


class TenantRecord(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    # The sync engine's "changed since the last run" reads this: keep it indexed.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        abstract = True


class BusinessUnit(TenantRecord):
    """A department of the tenant."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=40, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"],
                condition=~Q(code=""),
                name="records_business_unit_unique_code",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CostCentre(TenantRecord):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"], name="records_cost_centre_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Employee(TenantRecord):
    """A person who works for the tenant; usually one of its users."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=Q(user__isnull=False),
                name="records_employee_unique_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Unit(TenantRecord):
    """A unit of measure (pcs, h, km, day)."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="records_unit_unique_code")
        ]

    def __str__(self) -> str:
        return self.code


class ProductKind(models.TextChoices):
    WORK_TYPE = "work_type", _("Work type")
    TRAVEL = "travel", _("Travel")
    PRODUCT = "product", _("Product")


class Product(TenantRecord):
    """A work type, travel expense type or product; ``code`` is digits only (or blank)
    because accounting systems match it with their numeric article numbers."""

    kind = models.CharField(
        _("kind"), max_length=16, choices=ProductKind.choices, default=ProductKind.PRODUCT
    )
    code = models.CharField(_("code"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=Decimal(0))
    vat_rate = models.DecimalField(
        _("VAT rate %"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"],
                condition=~Q(code=""),
                name="records_product_unique_code",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PRIVATE = "private", _("Private person")


class Customer(TenantRecord):
    number = models.CharField(_("customer number"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    organisation_number = models.CharField(_("organisation number"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"],
                condition=~Q(number=""),
                name="records_customer_unique_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class AddressKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice address")
    POSTAL = "postal", _("Postal address")
    OFFICE = "office", _("Office address")
    VISITING = "visiting", _("Visiting address")


class CustomerAddress(TenantRecord):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AddressKind.choices)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))

    class Meta:
        # Per kind the first listed address wins (the integrations send that one).
        ordering = ["pk"]

    def __str__(self) -> str:
        return ", ".join(
            part for part in (self.street, f"{self.postal_code} {self.city}".strip()) if part
        )


class CustomerContact(TenantRecord):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class SalesStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROPOSAL = "proposal", _("Proposal")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Project(TenantRecord):
    number = models.CharField(_("project number"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="projects"
    )
    sales_status = models.CharField(
        _("sales status"), max_length=16, choices=SalesStatus.choices, default=SalesStatus.LEAD
    )

    class Meta:
        ordering = ["number", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="records_project_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class InvoiceStatus(TenantRecord):
    """One step of the tenant's own invoice workflow; integrations are triggered by
    moving an invoice to a chosen status."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="records_invoice_status_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomerInvoice(TenantRecord):
    number = models.CharField(_("invoice number"), max_length=40, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    status = models.ForeignKey(
        InvoiceStatus, verbose_name=_("status"), on_delete=models.PROTECT, related_name="invoices"
    )
    invoice_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-invoice_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"],
                condition=~Q(number=""),
                name="records_customer_invoice_unique_number",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class CustomerInvoiceRow(TenantRecord):
    invoice = models.ForeignKey(CustomerInvoice, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(
        _("VAT rate %"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    business_unit = models.ForeignKey(
        BusinessUnit,
        verbose_name=_("business unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cost_centre = models.ForeignKey(
        CostCentre,
        verbose_name=_("cost centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def net(self) -> Decimal:

        return row_net(self.quantity, self.unit_price)


class CustomerInvoiceAttachment(TenantRecord):
    invoice = models.ForeignKey(
        CustomerInvoice, on_delete=models.CASCADE, related_name="attachments"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.file_name


class ProjectFee(TenantRecord):
    """A cost booked to a project (e.g. from a supplier invoice); billable ones can be
    invoiced to the customer, the others only count as cost."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="fees"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    date = models.DateField(_("date"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, default=Decimal(1)
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    is_billable = models.BooleanField(_("billable"), default=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return self.description or f"#{self.pk}"
