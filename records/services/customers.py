"""Customers with their addresses and contacts, projects and project fees."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from records.models import (
    AddressKind,
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerKind,
    Product,
    Project,
    ProjectFee,
    SalesStatus,
)
from records.services.checks import (
    COUNTRY_CODE,
    Checker,
    Data,
    country_check,
    identifier_check,
    nested_errors,
    record_save,
    tenant_of,
)
from severa import clock
from severa.identifiers import business_id_clean, vat_number_clean
from severa.identifiers.national import postal_code_clean

# Per kind the first listed address decides the customer's country (invoice first).
ADDRESS_KIND_ORDER = (
    AddressKind.INVOICE,
    AddressKind.POSTAL,
    AddressKind.OFFICE,
    AddressKind.VISITING,
)

# Customers, their addresses and contacts -------------------------------------------------


def customer_country(*, tenant: Tenant, addresses: Iterable[Mapping[str, Any]]) -> str:
    """The country a customer's identifiers are checked for: that of its first invoice
    address, else postal, office or visiting address, else the tenant's own."""
    addresses = list(addresses)
    for kind in ADDRESS_KIND_ORDER:
        for address in addresses:
            country = str(address.get("country") or "").strip().upper()
            if address.get("kind") == kind and COUNTRY_CODE.match(country):
                return country
    return tenant.country


def _address_values(check: Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = Checker(check.tenant, None, data)
    kind = row.choice("kind", AddressKind, "")
    street = row.text(CustomerAddress, "street")
    city = row.text(CustomerAddress, "city")
    country = country_check(row, "country", str(data.get("country") or ""))
    postal_code = row.text(CustomerAddress, "postal_code")
    if "country" not in row.errors:
        postal_code = identifier_check(
            row, "postal_code", lambda value: postal_code_clean(country, value), postal_code
        )
    if not (street or postal_code or city):
        row.add("street", _("Give at least a street address, a postal code or a city."))
    nested_errors(check, "addresses", index, row.errors)
    return {
        "kind": kind,
        "street": street,
        "postal_code": postal_code,
        "city": city,
        "country": country,
    }


def _contact_values(check: Checker, index: int, data: Mapping[str, Any]) -> dict[str, Any]:
    row = Checker(check.tenant, None, data)
    values = {
        "first_name": row.text(CustomerContact, "first_name"),
        "last_name": row.text(CustomerContact, "last_name", required=_("Give the last name.")),
        "email": row.email(CustomerContact),
        "phone": row.text(CustomerContact, "phone"),
    }
    nested_errors(check, "contacts", index, row.errors)
    return values


def _customer_values(
    check: Checker,
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
        vat_number = identifier_check(
            check, "vat_number", lambda value: vat_number_clean(vat_country, value), vat_number
        )
    organisation_number = check.text(Customer, "organisation_number")
    organisation_number = identifier_check(
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
def customer_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> Customer:
    """A customer; ``data`` may carry ``addresses`` and ``contacts`` (lists of dicts)."""
    with tenant_scope(tenant):
        values, addresses, contacts = _customer_values(Checker(tenant, None, data))
        customer = record_save(
            Customer,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["name"],
        )
        _customer_children_replace(customer, addresses, contacts)
        return customer


@transaction.atomic
def customer_update(*, customer: Customer, data: Data, actor: User | None = None) -> Customer:
    """Update a customer; ``addresses`` or ``contacts``, when given, replace all of them."""
    tenant = tenant_of(customer)
    with tenant_scope(tenant):
        values, addresses, contacts = _customer_values(Checker(tenant, customer, data))
        customer = record_save(
            Customer,
            tenant=tenant,
            instance=customer,
            values=values,
            actor=actor,
            label=values["name"],
        )
        _customer_children_replace(customer, addresses, contacts)
        return customer


# Projects and project fees ---------------------------------------------------------------


def _project_values(check: Checker) -> dict[str, Any]:
    number = check.text(Project, "number", required=_("Give the project a number."))
    name = check.text(Project, "name", required=_("Give the project a name."))
    customer = check.owned("customer", Customer, required=_("Choose the customer."))
    sales_status = check.choice("sales_status", SalesStatus, SalesStatus.LEAD)
    check.unique(Project, "number", number, _("Another project has the number %(value)s."))
    check.done()
    return {"number": number, "name": name, "customer": customer, "sales_status": sales_status}


@transaction.atomic
def project_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> Project:
    with tenant_scope(tenant):
        values = _project_values(Checker(tenant, None, data))
        return record_save(
            Project,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["number"],
        )


@transaction.atomic
def project_update(*, project: Project, data: Data, actor: User | None = None) -> Project:
    tenant = tenant_of(project)
    with tenant_scope(tenant):
        values = _project_values(Checker(tenant, project, data))
        return record_save(
            Project,
            tenant=tenant,
            instance=project,
            values=values,
            actor=actor,
            label=values["number"],
        )


def _project_fee_values(check: Checker) -> dict[str, Any]:
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
def project_fee_create(*, tenant: Tenant, data: Data, actor: User | None = None) -> ProjectFee:
    with tenant_scope(tenant):
        values = _project_fee_values(Checker(tenant, None, data))
        return record_save(
            ProjectFee,
            tenant=tenant,
            instance=None,
            values=values,
            actor=actor,
            label=values["description"],
        )


@transaction.atomic
def project_fee_update(
    *, project_fee: ProjectFee, data: Data, actor: User | None = None
) -> ProjectFee:
    tenant = tenant_of(project_fee)
    with tenant_scope(tenant):
        values = _project_fee_values(Checker(tenant, project_fee, data))
        return record_save(
            ProjectFee,
            tenant=tenant,
            instance=project_fee,
            values=values,
            actor=actor,
            label=values["description"],
        )
