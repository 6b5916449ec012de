"""Writing the tenant's business records (DESIGN §3.9): one create and one update function
per record type, called alike by the pages, the API and the integrations' sync engine.

Every function checks all its input before it writes and raises ``ValidationError`` with a
message per field when something is wrong; nothing is saved then (nested addresses,
contacts and invoice rows included). Updates take only the fields they are given, so the
API's PATCH and a sync that knows some fields only pass what they have.

Records passed in (a customer of a project, a unit of a product, ...) must belong to the
same tenant: an id of another tenant's row is answered like an unknown id by the callers,
and refused here as a last line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, validate_email
from django.db import IntegrityError, models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Membership, Tenant, User
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from billing.identifiers import IdentifierError, business_id_clean, vat_number_clean
from billing.identifiers.errors import is_digits
from billing.identifiers.national import postal_code_clean
from billing.money import CURRENCIES
from records.models import (
    AddressKind,
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerInvoice,
    CustomerInvoiceAttachment,
    CustomerInvoiceRow,
    CustomerKind,
    Employee,
    InvoiceStatus,
    Product,
    ProductKind,
    Project,
    ProjectFee,
    SalesStatus,
    Unit,
)
from severa import clock

Record = TypeVar("Record", bound=models.Model)
Data = Mapping[str, Any]
Errors = dict[str, list[str]]

# A tenant's invoice statuses when it has none yet, in workflow order.
DEFAULT_INVOICE_STATUSES = (
    gettext_noop("Draft"),
    gettext_noop("Ready to send"),
    gettext_noop("Sent"),
    gettext_noop("Paid"),
)
# Per kind the first listed address decides the customer's country (invoice first).
ADDRESS_KIND_ORDER = (
    AddressKind.INVOICE,
    AddressKind.POSTAL,
    AddressKind.OFFICE,
    AddressKind.VISITING,
)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# Field checks ----------------------------------------------------------------------------


class _Checker:
    """Collects one message list per field; ``done()`` raises them all at once."""

    def __init__(self, tenant: Tenant, instance: models.Model | None, data: Data) -> None:
        self.tenant = tenant
        self.instance = instance
        self.data = data
        self.errors: Errors = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str, default: Any = None) -> Any:
        if name in self.data:
            return self.data[name]
        if self.instance is not None:
            return getattr(self.instance, name)
        return default

    def text(
        self,
        model: type[models.Model],
        name: str,
        *,
        required: str = "",
        multiline: bool = False,
    ) -> str:
        """A text field, trimmed (inner whitespace collapsed unless multiline); ``required``
        is the message for a missing value."""
        value = self.raw(name, "")
        value = "" if value is None else str(value)
        value = value.strip() if multiline else " ".join(value.split())
        if not value and required:
            self.add(name, required)
        limit = model._meta.get_field(name).max_length
        if limit is not None and len(value) > limit:
            self.add(name, _("At most %(limit)d characters, please.") % {"limit": limit})
        return value

    def email(self, model: type[models.Model], name: str = "email") -> str:
        value = self.text(model, name).lower()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.add(name, _("%(value)s is not an e-mail address.") % {"value": value})
        return value

    def choice(self, name: str, choices: type[models.TextChoices], default: str) -> str:
        value = self.raw(name, default)
        if value not in choices.values:
            self.add(
                name,
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)},
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            self.add(name, _("Give true or false."))
            return default
        return value

    def decimal(
        self,
        model: type[models.Model],
        name: str,
        *,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        required: str = "",
    ) -> Decimal | None:
        value = self.raw(name, default)
        if value is None or value == "":
            if required:
                self.add(name, required)
            return None
        if isinstance(value, float | bool):  # money never goes through a float
            self.add(name, _("Give a decimal number."))
            return None
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            self.add(name, _("%(value)s is not a number.") % {"value": value})
            return None
        if not number.is_finite():
            self.add(name, _("%(value)s is not a number.") % {"value": value})
            return None
        field = model._meta.get_field(name)
        try:
            DecimalValidator(field.max_digits, field.decimal_places)(number)
        except ValidationError as error:
            for message in error.messages:
                self.add(name, message)
            return None
        if minimum is not None and number < minimum:
            self.add(name, _("At least %(minimum)s, please.") % {"minimum": minimum})
        if maximum is not None and number > maximum:
            self.add(name, _("At most %(maximum)s, please.") % {"maximum": maximum})
        return number

    def day(self, name: str, *, required: str = "") -> date | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                self.add(name, required)
            return None
        if not isinstance(value, date):
            self.add(name, _("Give a date."))
            return None
        return value

    def owned(
        self,
        name: str,
        model: type[Record],
        *,
        required: str = "",
    ) -> Record | None:
        """A record this one points at: of the same tenant, or refused."""
        value = self.raw(name)
        if value is None:
            if required:
                self.add(name, required)
            return None
        if not isinstance(value, model) or value.tenant_id != self.tenant.pk:  # type: ignore[attr-defined]
            self.add(name, _("No such %(record)s.") % {"record": model._meta.verbose_name})
            return None
        return value

    def unique(self, model: type[models.Model], name: str, value: str, message: str) -> None:
        """Refuse a value another row of the tenant has (blank values are not compared)."""
        if not value or name in self.errors:
            return
        rows = model.objects.filter(tenant=self.tenant, **{name: value})
        if self.instance is not None:
            rows = rows.exclude(pk=self.instance.pk)
        if rows.exists():
            self.add(name, message % {"value": value})

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _identifier(check: _Checker, name: str, clean: Callable[[str], str], value: str) -> str:
    try:
        return clean(value)
    except IdentifierError as error:
        check.add(name, error.message)
        return value


def _country(check: _Checker, name: str, value: str) -> str:
    value = (value or "").strip().upper()
    if not _COUNTRY.match(value):
        check.add(name, _("Give the country as a two-letter ISO code, e.g. FI."))
    return value


def _nested_errors(check: _Checker, name: str, index: int, errors: Errors) -> None:
    for field, messages in errors.items():
        for message in messages:
            check.add(f"{name}[{index}].{field}", message)


def _save(
    model: type[Record],
    *,
    tenant: Tenant,
    instance: Record | None,
    values: dict[str, Any],
    by_user: User | None,
    label: str,
) -> Record:
    """Create or update one row; a unique constraint hit in a race becomes a message."""
    if instance is None:
        instance = model(tenant=tenant, **values)
        action = "created"
    else:
        for name, value in values.items():
            setattr(instance, name, value)
        action = "updated"
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError(
            _("Another %(record)s with the same number or code was just saved.")
            % {"record": model._meta.verbose_name}
        ) from None
    audit_record(
        tenant=tenant,
        actor=by_user,
        action=f"records.{model._meta.model_name}.{action}",
        record=label,
        record_id=instance.pk,
    )
    return instance


def _tenant_of(instance: Any) -> Tenant:
    return Tenant.objects.get(pk=instance.tenant_id)


# Business units, cost centres, units -----------------------------------------------------


def _business_unit_values(check: _Checker) -> dict[str, Any]:
    name = check.text(BusinessUnit, "name", required=_("Give the business unit a name."))
    code = check.text(BusinessUnit, "code")
    check.unique(BusinessUnit, "code", code, _("Another business unit has the code %(value)s."))
    check.done()
    return {"name": name, "code": code}


@transaction.atomic
def business_unit_create(
    *, tenant: Tenant, data: Data, by_user: User | None = None
) -> BusinessUnit:
    with tenant_scope(tenant):
        values = _business_unit_values(_Checker(tenant, None, data))
        return _save(
            BusinessUnit,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


@transaction.atomic
def business_unit_update(
    *, business_unit: BusinessUnit, data: Data, by_user: User | None = None
) -> BusinessUnit:
    tenant = _tenant_of(business_unit)
    with tenant_scope(tenant):
        values = _business_unit_values(_Checker(tenant, business_unit, data))
        return _save(
            BusinessUnit,
            tenant=tenant,
            instance=business_unit,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


def _cost_centre_values(check: _Checker) -> dict[str, Any]:
    code = check.text(CostCentre, "code", required=_("Give the cost centre a code."))
    name = check.text(CostCentre, "name", required=_("Give the cost centre a name."))
    is_active = check.boolean("is_active", True)
    check.unique(CostCentre, "code", code, _("Another cost centre has the code %(value)s."))
    check.done()
    return {"code": code, "name": name, "is_active": is_active}


@transaction.atomic
def cost_centre_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> CostCentre:
    with tenant_scope(tenant):
        values = _cost_centre_values(_Checker(tenant, None, data))
        return _save(
            CostCentre,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["code"],
        )


@transaction.atomic
def cost_centre_update(
    *, cost_centre: CostCentre, data: Data, by_user: User | None = None
) -> CostCentre:
    tenant = _tenant_of(cost_centre)
    with tenant_scope(tenant):
        values = _cost_centre_values(_Checker(tenant, cost_centre, data))
        return _save(
            CostCentre,
            tenant=tenant,
            instance=cost_centre,
            values=values,
            by_user=by_user,
            label=values["code"],
        )


def _unit_values(check: _Checker) -> dict[str, Any]:
    code = check.text(Unit, "code", required=_("Give the unit a code, e.g. pcs or h."))
    name = check.text(Unit, "name", required=_("Give the unit a name."))
    check.unique(Unit, "code", code, _("Another unit has the code %(value)s."))
    check.done()
    return {"code": code, "name": name}


@transaction.atomic
def unit_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> Unit:
    with tenant_scope(tenant):
        values = _unit_values(_Checker(tenant, None, data))
        return _save(
            Unit, tenant=tenant, instance=None, values=values, by_user=by_user, label=values["code"]
        )


@transaction.atomic
def unit_update(*, unit: Unit, data: Data, by_user: User | None = None) -> Unit:
    tenant = _tenant_of(unit)
    with tenant_scope(tenant):
        values = _unit_values(_Checker(tenant, unit, data))
        return _save(
            Unit, tenant=tenant, instance=unit, values=values, by_user=by_user, label=values["code"]
        )


# Employees -------------------------------------------------------------------------------


def _employee_values(check: _Checker) -> dict[str, Any]:
    user = check.raw("user")
    if user is not None and not Membership.objects.filter(tenant=check.tenant, user=user).exists():
        check.add("user", _("Only users of the company can be linked to an employee."))
    first_name = check.text(Employee, "first_name", required=_("Give the first name."))
    last_name = check.text(Employee, "last_name")
    email = check.email(Employee)
    is_active = check.boolean("is_active", True)
    if user is not None and "user" not in check.errors:
        others = Employee.objects.filter(tenant=check.tenant, user=user)
        if check.instance is not None:
            others = others.exclude(pk=check.instance.pk)
        if others.exists():
            check.add("user", _("This user is already linked to another employee."))
    check.done()
    return {
        "user": user,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "is_active": is_active,
    }


@transaction.atomic
def employee_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> Employee:
    with tenant_scope(tenant):
        values = _employee_values(_Checker(tenant, None, data))
        return _save(
            Employee,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=f"{values['first_name']} {values['last_name']}".strip(),
        )


@transaction.atomic
def employee_update(*, employee: Employee, data: Data, by_user: User | None = None) -> Employee:
    tenant = _tenant_of(employee)
    with tenant_scope(tenant):
        values = _employee_values(_Checker(tenant, employee, data))
        return _save(
            Employee,
            tenant=tenant,
            instance=employee,
            values=values,
            by_user=by_user,
            label=f"{values['first_name']} {values['last_name']}".strip(),
        )


@transaction.atomic
def employee_sync_from_members(*, tenant: Tenant) -> int:
    """One employee per user of the tenant: creates the missing ones, and keeps each linked
    employee's name, e-mail and active flag as its user's (a user without a first name
    keeps the username as one). Returns how many employees were created."""
    created = 0
    with tenant_scope(tenant):
        memberships = Membership.objects.filter(tenant=tenant).select_related("user")
        employees = {
            employee.user_id: employee
            for employee in Employee.objects.filter(tenant=tenant, user__isnull=False)
        }
        for membership in memberships:
            user = membership.user
            values = {
                "first_name": (user.first_name or user.username)[:150],
                "last_name": user.last_name[:150],
                "email": (user.email or "").lower(),
                "is_active": membership.is_active and user.is_active,
            }
            employee = employees.get(user.pk)
            if employee is None:
                Employee.objects.create(tenant=tenant, user=user, **values)
                created += 1
            elif any(getattr(employee, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(employee, name, value)
                employee.save()
    return created


# Products --------------------------------------------------------------------------------


def _product_values(check: _Checker) -> dict[str, Any]:
    kind = check.choice("kind", ProductKind, ProductKind.PRODUCT)
    code = check.text(Product, "code")
    if code and not is_digits(code):
        # Accounting systems match products by a numeric article number (Fortnox refuses
        # others), so a code is digits only.
        check.add("code", _("A product code is digits only, e.g. 1001."))
    name = check.text(Product, "name", required=_("Give the product a name."))
    unit = check.owned("unit", Unit)
    price = check.decimal(Product, "price", default=Decimal(0), minimum=Decimal(0))
    vat_rate = check.decimal(
        Product, "vat_rate", default=Decimal(0), minimum=Decimal(0), maximum=Decimal(100)
    )
    is_active = check.boolean("is_active", True)
    check.unique(Product, "code", code, _("Another product has the code %(value)s."))
    check.done()
    return {
        "kind": kind,
        "code": code,
        "name": name,
        "unit": unit,
        "price": price if price is not None else Decimal(0),
        "vat_rate": vat_rate if vat_rate is not None else Decimal(0),
        "is_active": is_active,
    }


@transaction.atomic
def product_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> Product:
    with tenant_scope(tenant):
        values = _product_values(_Checker(tenant, None, data))
        return _save(
            Product,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


@transaction.atomic
def product_update(*, product: Product, data: Data, by_user: User | None = None) -> Product:
    tenant = _tenant_of(product)
    with tenant_scope(tenant):
        values = _product_values(_Checker(tenant, product, data))
        return _save(
            Product,
            tenant=tenant,
            instance=product,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


# Customers, their addresses and contacts -------------------------------------------------


def customer_country(*, tenant: Tenant, addresses: Iterable[Mapping[str, Any]]) -> str:
    """The country a customer's identifiers are checked for: that of its first invoice
    address, else postal, office or visiting address, else the tenant's own."""
    addresses = list(addresses)
    for kind in ADDRESS_KIND_ORDER:
        for address in addresses:
            country = str(address.get("country") or "").strip().upper()
            if address.get("kind") == kind and _COUNTRY.match(country):
                return country
    return tenant.country


def _address_values(check: _Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = _Checker(check.tenant, None, data)
    kind = row.choice("kind", AddressKind, "")
    street = row.text(CustomerAddress, "street")
    city = row.text(CustomerAddress, "city")
    country = _country(row, "country", str(data.get("country") or ""))
    postal_code = row.text(CustomerAddress, "postal_code")
    if "country" not in row.errors:
        postal_code = _identifier(
            row, "postal_code", lambda value: postal_code_clean(country, value), postal_code
        )
    if not (street or postal_code or city):
        row.add("street", _("Give at least a street address, a postal code or a city."))
    _nested_errors(check, "addresses", index, row.errors)
    return {
        "kind": kind,
        "street": street,
        "postal_code": postal_code,
        "city": city,
        "country": country,
    }


def _contact_values(check: _Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = _Checker(check.tenant, None, data)
    values = {
        "first_name": row.text(CustomerContact, "first_name"),
        "last_name": row.text(CustomerContact, "last_name", required=_("Give the last name.")),
        "email": row.email(CustomerContact),
        "phone": row.text(CustomerContact, "phone"),
    }
    _nested_errors(check, "contacts", index, row.errors)
    return values


def _customer_values(
    check: _Checker,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    number = check.text(Customer, "number")
    name = check.text(Customer, "name", required=_("Give the customer a name."))
    kind = check.choice("kind", CustomerKind, CustomerKind.COMPANY)
    email = check.email(Customer)
    phone = check.text(Customer, "phone")
    is_active = check.boolean("is_active", True)
    addresses = contacts = None
    if check.data.get("addresses") is not None:
        addresses = [
            _address_values(check, index, address)
            for index, address in enumerate(check.data["addresses"])
        ]
    if check.data.get("contacts") is not None:
        contacts = [
            _contact_values(check, index, contact)
            for index, contact in enumerate(check.data["contacts"])
        ]
    if addresses is not None:
        country = customer_country(tenant=check.tenant, addresses=addresses)
    elif check.instance is not None:
        country = customer_country(
            tenant=check.tenant, addresses=check.instance.addresses.values("kind", "country")
        )
    else:
        country = check.tenant.country
    vat_number = check.text(Customer, "vat_number")
    if vat_number:
        # A VAT number that names its country is checked for that country.
        prefix = vat_number.replace(" ", "")[:2].upper()
        vat_country = {"EL": "GR"}.get(prefix, prefix) if prefix.isalpha() else country
        vat_number = _identifier(
            check, "vat_number", lambda value: vat_number_clean(vat_country, value), vat_number
        )
    organisation_number = check.text(Customer, "organisation_number")
    organisation_number = _identifier(
        check,
        "organisation_number",
        lambda value: business_id_clean(country, value),
        organisation_number,
    )
    check.unique(Customer, "number", number, _("Another customer has the number %(value)s."))
    check.done()
    values = {
        "number": number,
        "name": name,
        "kind": kind,
        "vat_number": vat_number,
        "organisation_number": organisation_number,
        "email": email,
        "phone": phone,
        "is_active": is_active,
    }
    return values, addresses, contacts


def _customer_children_replace(
    customer: Customer,
    addresses: list[dict[str, Any]] | None,
    contacts: list[dict[str, Any]] | None,
) -> None:
    if addresses is not None:
        CustomerAddress.objects.filter(customer=customer).delete()
        CustomerAddress.objects.bulk_create(
            CustomerAddress(tenant_id=customer.tenant_id, customer=customer, **address)
            for address in addresses
        )
    if contacts is not None:
        CustomerContact.objects.filter(customer=customer).delete()
        CustomerContact.objects.bulk_create(
            CustomerContact(tenant_id=customer.tenant_id, customer=customer, **contact)
            for contact in contacts
        )
    if addresses is not None or contacts is not None:
        # A change of addresses or contacts is a change of the customer for the sync.
        Customer.objects.filter(pk=customer.pk).update(updated_at=clock.now())


@transaction.atomic
def customer_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> Customer:
    """A customer; ``data`` may carry ``addresses`` and ``contacts`` (lists of dicts)."""
    with tenant_scope(tenant):
        values, addresses, contacts = _customer_values(_Checker(tenant, None, data))
        customer = _save(
            Customer,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["name"],
        )
        _customer_children_replace(customer, addresses, contacts)
        return customer


@transaction.atomic
def customer_update(*, customer: Customer, data: Data, by_user: User | None = None) -> Customer:
    """Update a customer; ``addresses`` or ``contacts``, when given, replace all of them."""
    tenant = _tenant_of(customer)
    with tenant_scope(tenant):
        values, addresses, contacts = _customer_values(_Checker(tenant, customer, data))
        customer = _save(
            Customer,
            tenant=tenant,
            instance=customer,
            values=values,
            by_user=by_user,
            label=values["name"],
        )
        _customer_children_replace(customer, addresses, contacts)
        return customer


# Projects and project fees ---------------------------------------------------------------


def _project_values(check: _Checker) -> dict[str, Any]:
    number = check.text(Project, "number", required=_("Give the project a number."))
    name = check.text(Project, "name", required=_("Give the project a name."))
    customer = check.owned("customer", Customer, required=_("Choose the customer."))
    sales_status = check.choice("sales_status", SalesStatus, SalesStatus.LEAD)
    check.unique(Project, "number", number, _("Another project has the number %(value)s."))
    check.done()
    return {"number": number, "name": name, "customer": customer, "sales_status": sales_status}


@transaction.atomic
def project_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> Project:
    with tenant_scope(tenant):
        values = _project_values(_Checker(tenant, None, data))
        return _save(
            Project,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["number"],
        )


@transaction.atomic
def project_update(*, project: Project, data: Data, by_user: User | None = None) -> Project:
    tenant = _tenant_of(project)
    with tenant_scope(tenant):
        values = _project_values(_Checker(tenant, project, data))
        return _save(
            Project,
            tenant=tenant,
            instance=project,
            values=values,
            by_user=by_user,
            label=values["number"],
        )


def _project_fee_values(check: _Checker) -> dict[str, Any]:
    project = check.owned("project", Project, required=_("Choose the project."))
    product = check.owned("product", Product)
    description = check.text(ProjectFee, "description")
    if not description and product is not None:
        description = product.name
    if not description and "product" not in check.errors:
        check.add("description", _("Give a description or choose a product."))
    fee_date = check.day("date", required=_("Give the date of the fee."))
    quantity = check.decimal(
        ProjectFee, "quantity", default=Decimal(1), required=_("Give a quantity.")
    )
    if quantity is not None and quantity <= 0:
        check.add("quantity", _("The quantity is more than zero."))
    unit_cost = check.decimal(ProjectFee, "unit_cost", default=Decimal(0), minimum=Decimal(0))
    unit_price = check.decimal(ProjectFee, "unit_price", default=Decimal(0), minimum=Decimal(0))
    is_billable = check.boolean("is_billable", True)
    check.done()
    return {
        "project": project,
        "product": product,
        "description": description,
        "date": fee_date,
        "quantity": quantity,
        "unit_cost": unit_cost if unit_cost is not None else Decimal(0),
        "unit_price": unit_price if unit_price is not None else Decimal(0),
        "is_billable": is_billable,
    }


@transaction.atomic
def project_fee_create(*, tenant: Tenant, data: Data, by_user: User | None = None) -> ProjectFee:
    with tenant_scope(tenant):
        values = _project_fee_values(_Checker(tenant, None, data))
        return _save(
            ProjectFee,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["description"],
        )


@transaction.atomic
def project_fee_update(
    *, project_fee: ProjectFee, data: Data, by_user: User | None = None
) -> ProjectFee:
    tenant = _tenant_of(project_fee)
    with tenant_scope(tenant):
        values = _project_fee_values(_Checker(tenant, project_fee, data))
        return _save(
            ProjectFee,
            tenant=tenant,
            instance=project_fee,
            values=values,
            by_user=by_user,
            label=values["description"],
        )


# Invoice statuses ------------------------------------------------------------------------


@transaction.atomic
def invoice_statuses_ensure(*, tenant: Tenant) -> list[InvoiceStatus]:
    """The tenant's invoice statuses in order; a tenant with none gets the default list
    (Draft, Ready to send, Sent, Paid) in its language."""
    with tenant_scope(tenant):
        # The tenant row is the lock: two first uses at once create the list once.
        Tenant.objects.select_for_update().get(pk=tenant.pk)
        statuses = list(InvoiceStatus.objects.filter(tenant=tenant))
        if statuses:
            return statuses
        with translation.override(tenant.language or "en"):
            names = [_(name) for name in DEFAULT_INVOICE_STATUSES]
        return [
            InvoiceStatus.objects.create(tenant=tenant, name=name, position=(index + 1) * 10)
            for index, name in enumerate(names)
        ]


def _invoice_status_values(check: _Checker) -> dict[str, Any]:
    name = check.text(InvoiceStatus, "name", required=_("Give the status a name."))
    position = check.raw("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        check.add("position", _("The position is a whole number, zero or more."))
    is_active = check.boolean("is_active", True)
    check.unique(InvoiceStatus, "name", name, _("Another status is called %(value)s."))
    check.done()
    return {"name": name, "position": position, "is_active": is_active}


@transaction.atomic
def invoice_status_create(
    *, tenant: Tenant, data: Data, by_user: User | None = None
) -> InvoiceStatus:
    with tenant_scope(tenant):
        values = _invoice_status_values(_Checker(tenant, None, data))
        return _save(
            InvoiceStatus,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


@transaction.atomic
def invoice_status_update(
    *, invoice_status: InvoiceStatus, data: Data, by_user: User | None = None
) -> InvoiceStatus:
    tenant = _tenant_of(invoice_status)
    with tenant_scope(tenant):
        values = _invoice_status_values(_Checker(tenant, invoice_status, data))
        return _save(
            InvoiceStatus,
            tenant=tenant,
            instance=invoice_status,
            values=values,
            by_user=by_user,
            label=values["name"],
        )


# Customer invoices -----------------------------------------------------------------------


def _invoice_row_values(check: _Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = _Checker(check.tenant, None, data)
    product = row.owned("product", Product)
    # A product fills in what the row leaves out: its name, price and VAT rate.
    defaults = (
        {}
        if product is None
        else {
            "description": product.name,
            "unit_price": product.price,
            "vat_rate": product.vat_rate,
        }
    )
    for name, value in defaults.items():
        if row.data.get(name) in (None, ""):
            row.data = {**row.data, name: value}
    description = row.text(CustomerInvoiceRow, "description")
    if not description and "product" not in row.errors:
        row.add("description", _("Give a description or choose a product."))
    quantity = row.decimal(CustomerInvoiceRow, "quantity", required=_("Give a quantity."))
    unit_price = row.decimal(CustomerInvoiceRow, "unit_price", required=_("Give a unit price."))
    vat_rate = row.decimal(
        CustomerInvoiceRow,
        "vat_rate",
        default=Decimal(0),
        minimum=Decimal(0),
        maximum=Decimal(100),
    )
    values = {
        "position": index + 1,
        "product": product,
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "vat_rate": vat_rate if vat_rate is not None else Decimal(0),
        "business_unit": row.owned("business_unit", BusinessUnit),
        "cost_centre": row.owned("cost_centre", CostCentre),
    }
    _nested_errors(check, "rows", index, row.errors)
    return values


def _invoice_values(check: _Checker) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    number = check.text(CustomerInvoice, "number")
    customer = check.owned("customer", Customer, required=_("Choose the customer."))
    project = check.owned("project", Project)
    if project is not None and customer is not None and project.customer_id != customer.pk:
        check.add("project", _("The project belongs to another customer."))
    if check.raw("status") is None:
        # An invoice starts in the first active status of the tenant's list.
        statuses = [s for s in invoice_statuses_ensure(tenant=check.tenant) if s.is_active]
        check.data = {**check.data, "status": statuses[0] if statuses else None}
    status = check.owned("status", InvoiceStatus, required=_("Choose the status."))
    invoice_date = check.day("invoice_date", required=_("Give the invoice date."))
    due_date = check.day("due_date")
    if invoice_date and due_date and due_date < invoice_date:
        check.add("due_date", _("The due date is on or after the invoice date."))
    currency = check.text(CustomerInvoice, "currency").upper() or "EUR"
    if currency not in CURRENCIES:
        check.add(
            "currency",
            _("Choose one of the currencies %(currencies)s.")
            % {"currencies": ", ".join(sorted(CURRENCIES))},
        )
    reference = check.text(CustomerInvoice, "reference")
    notes = check.text(CustomerInvoice, "notes", multiline=True)
    rows = None
    if check.data.get("rows") is not None:
        rows = [
            _invoice_row_values(check, index, row) for index, row in enumerate(check.data["rows"])
        ]
    check.unique(CustomerInvoice, "number", number, _("Another invoice has the number %(value)s."))
    check.done()
    values = {
        "number": number,
        "customer": customer,
        "project": project,
        "status": status,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "currency": currency,
        "reference": reference,
        "notes": notes,
    }
    return values, rows


def _invoice_rows_replace(invoice: CustomerInvoice, rows: list[dict[str, Any]] | None) -> None:
    if rows is None:
        return
    CustomerInvoiceRow.objects.filter(invoice=invoice).delete()
    CustomerInvoiceRow.objects.bulk_create(
        CustomerInvoiceRow(tenant_id=invoice.tenant_id, invoice=invoice, **row) for row in rows
    )
    CustomerInvoice.objects.filter(pk=invoice.pk).update(updated_at=clock.now())


@transaction.atomic
def customer_invoice_create(
    *, tenant: Tenant, data: Data, by_user: User | None = None
) -> CustomerInvoice:
    """An invoice; ``data`` may carry ``rows`` (a list of dicts). Without a status it starts
    in the first active one of the tenant's list."""
    with tenant_scope(tenant):
        values, rows = _invoice_values(_Checker(tenant, None, data))
        invoice = _save(
            CustomerInvoice,
            tenant=tenant,
            instance=None,
            values=values,
            by_user=by_user,
            label=values["number"],
        )
        _invoice_rows_replace(invoice, rows)
        return invoice


@transaction.atomic
def customer_invoice_update(
    *, customer_invoice: CustomerInvoice, data: Data, by_user: User | None = None
) -> CustomerInvoice:
    """Update an invoice; ``rows``, when given, replace all its rows."""
    tenant = _tenant_of(customer_invoice)
    with tenant_scope(tenant):
        values, rows = _invoice_values(_Checker(tenant, customer_invoice, data))
        invoice = _save(
            CustomerInvoice,
            tenant=tenant,
            instance=customer_invoice,
            values=values,
            by_user=by_user,
            label=values["number"],
        )
        _invoice_rows_replace(invoice, rows)
        return invoice


@transaction.atomic
def customer_invoice_attachment_add(
    *,
    customer_invoice: CustomerInvoice,
    file_name: str,
    content_type: str,
    content: bytes,
    by_user: User | None = None,
) -> CustomerInvoiceAttachment:
    """Attach a file (at most 10 MB) to an invoice."""
    tenant = _tenant_of(customer_invoice)
    data = {"file_name": file_name, "content_type": content_type or "application/octet-stream"}
    with tenant_scope(tenant):
        check = _Checker(tenant, None, data)
        name = check.text(
            CustomerInvoiceAttachment, "file_name", required=_("Give the file a name.")
        )
        kind = check.text(CustomerInvoiceAttachment, "content_type")
        if not content:
            check.add("content", _("The file is empty."))
        elif len(content) > MAX_ATTACHMENT_BYTES:
            check.add("content", _("A file is at most 10 MB."))
        check.done()
        attachment = CustomerInvoiceAttachment.objects.create(
            tenant=tenant,
            invoice=customer_invoice,
            file_name=name,
            content_type=kind,
            content=bytes(content),
            uploaded_at=clock.now(),
        )
        CustomerInvoice.objects.filter(pk=customer_invoice.pk).update(updated_at=clock.now())
        audit_record(
            tenant=tenant,
            actor=by_user,
            action="records.customerinvoiceattachment.created",
            record=name,
            record_id=attachment.pk,
        )
        return attachment
