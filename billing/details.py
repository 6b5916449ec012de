"""A tenant's billing details (DESIGN §3.6): the invoice address, the business id and VAT
number, and where e-invoices go (a Finnish eInvoice address and operator, or a Peppol id).

The business id and VAT number live on ``Tenant`` (every other part of the code reads them
there); this module is the one place that writes them. Identifiers are checked against the
tenant's country, the country the company is registered in; the invoice address may be in
another country.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from billing.models import BillingDetails
from severa import clock
from severa.identifiers import (
    IdentifierError,
    business_id_clean,
    country_uses_einvoice_address,
    einvoice_address_clean,
    einvoice_operator_clean,
    peppol_id_clean,
    postal_code_clean,
    vat_number_clean,
    vat_number_expected,
)
from severa.identifiers.bank import iban_clean
from severa.vat import ISO_COUNTRY_CODES

ADDRESS_FIELDS = ("street_address", "postal_code", "city", "country")
TENANT_FIELDS = ("business_id", "vat_number")
DELIVERY_FIELDS = ("einvoice_address", "einvoice_operator", "peppol_id")
# The company's own bank account: kept with its details (seed 001), not used to pay.
PAYMENT_FIELDS = ("bank_account",)
BILLING_DETAILS_FIELDS = ADDRESS_FIELDS + TENANT_FIELDS + DELIVERY_FIELDS + PAYMENT_FIELDS
REQUIRED_FIELDS = frozenset(ADDRESS_FIELDS) | {"business_id"}
MAX_LENGTHS = {
    **{name: BillingDetails._meta.get_field(name).max_length for name in ADDRESS_FIELDS},
    **{name: Tenant._meta.get_field(name).max_length for name in TENANT_FIELDS},
    **{name: BillingDetails._meta.get_field(name).max_length for name in DELIVERY_FIELDS},
    **{name: BillingDetails._meta.get_field(name).max_length for name in PAYMENT_FIELDS},
}


def billing_details_get(*, tenant: Tenant) -> BillingDetails:
    """The tenant's billing details; an unsaved row (``pk`` None, address country = the
    tenant's) when none are saved yet. Works with or without a tenant scope active."""
    with tenant_scope(tenant):
        details = BillingDetails.objects.filter(tenant=tenant).first()
    if details is not None:
        details.tenant = tenant
    if details is None:
        details = BillingDetails(tenant=tenant, country=tenant.country)
    return details


def billing_details_values(*, details: BillingDetails) -> dict[str, Any]:
    """Every field of the billing details as shown and edited (tenant fields included)."""
    values: dict[str, Any] = {name: getattr(details, name) for name in ADDRESS_FIELDS}
    values.update({name: getattr(details.tenant, name) for name in TENANT_FIELDS})
    values.update({name: getattr(details, name) for name in DELIVERY_FIELDS + PAYMENT_FIELDS})
    values["updated_at"] = details.updated_at
    return values


def billing_details_clean(
    *, tenant: Tenant | None = None, data: Mapping[str, Any], registered_in: str = ""
) -> dict[str, str]:
    """Check every field and return them in their stored form, or raise ValidationError
    with the messages of every field that is wrong (not only the first). Identifiers are
    checked against `registered_in` (default: the tenant's country; a partner's billing
    details pass the partner's)."""
    raw = {name: str(data.get(name) or "").strip() for name in BILLING_DETAILS_FIELDS}
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, value in raw.items():
        if name in REQUIRED_FIELDS and not value:
            refuse(name, _("Fill in this field."))
        elif len(value) > MAX_LENGTHS[name]:
            refuse(
                name,
                _("At most %(limit)d characters, please.") % {"limit": MAX_LENGTHS[name]},
            )

    country = raw["country"].upper()
    if "country" not in errors and country not in ISO_COUNTRY_CODES:
        refuse(
            "country",
            _("%(value)s is not a country code: use the two-letter ISO 3166 code, e.g. FI.")
            % {"value": raw["country"]},
        )
    clean["country"] = country
    clean["street_address"] = raw["street_address"]
    clean["city"] = raw["city"]

    # Address fields are checked against the address's country, identifiers against the
    # tenant's: the country the company is registered in.
    registered_in = registered_in or tenant.country
    checks = {
        "postal_code": lambda value: postal_code_clean(country, value),
        "business_id": lambda value: business_id_clean(registered_in, value),
        "vat_number": lambda value: vat_number_clean(registered_in, value),
        "einvoice_address": einvoice_address_clean,
        "einvoice_operator": einvoice_operator_clean,
        "peppol_id": peppol_id_clean,
        "bank_account": iban_clean,
    }
    for name, check in checks.items():
        if name in errors:
            continue
        try:
            clean[name] = check(raw[name])
        except IdentifierError as error:
            refuse(name, error.message)

    for name, value in clean.items():
        # Compacting upper-cases, and a few letters grow doing so ("ß" is "SS").
        if name not in errors and len(value) > MAX_LENGTHS[name]:
            refuse(name, _("At most %(limit)d characters, please.") % {"limit": MAX_LENGTHS[name]})
    if not errors:
        _check_combinations(registered_in, clean, refuse)
    if errors:
        raise ValidationError(errors)
    return clean


def _check_combinations(
    country: str, clean: dict[str, str], refuse: Callable[[str, str], None]
) -> None:
    expected_vat_number = vat_number_expected(country, clean["business_id"])
    if clean["vat_number"] and expected_vat_number and clean["vat_number"] != expected_vat_number:
        refuse(
            "vat_number",
            _(
                "This VAT number does not belong to business id %(business_id)s, whose VAT "
                "number is %(expected)s."
            )
            % {"business_id": clean["business_id"], "expected": expected_vat_number},
        )
    address, operator = clean["einvoice_address"], clean["einvoice_operator"]
    if (address or operator) and not country_uses_einvoice_address(country):
        message = _(
            "eInvoice addresses are for companies registered in Finland. Give a Peppol id "
            "to receive e-invoices."
        )
        for name in ("einvoice_address", "einvoice_operator"):
            if clean[name]:
                refuse(name, message)
        return
    if address and not operator:
        refuse("einvoice_operator", _("Give the operator that delivers to this eInvoice address."))
    if operator and not address:
        refuse("einvoice_address", _("Give the eInvoice address this operator delivers to."))
    if address and clean["peppol_id"]:
        refuse(
            "peppol_id",
            _(
                "Give either an eInvoice address or a Peppol id, not both: invoices are "
                "delivered one way."
            ),
        )


@transaction.atomic
def billing_details_update(
    *, tenant: Tenant, data: Mapping[str, Any], actor: User | None
) -> BillingDetails:
    """Check and save the billing details (and the tenant's business id and VAT number).
    Raises ValidationError with per-field messages and saves nothing when any is wrong."""
    clean = billing_details_clean(tenant=tenant, data=data)
    # The tenant row is the lock for its billing details and contacts.
    locked_tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    details = BillingDetails.objects.filter(tenant=locked_tenant).first()
    is_new = details is None
    if details is None:
        details = BillingDetails(tenant=locked_tenant)
    before = billing_details_values(details=details)
    for name in ADDRESS_FIELDS + DELIVERY_FIELDS + PAYMENT_FIELDS:
        setattr(details, name, clean[name])
    for name in TENANT_FIELDS:
        setattr(locked_tenant, name, clean[name])
    changes = {
        name: [before.get(name, ""), clean[name]]
        for name in BILLING_DETAILS_FIELDS
        if before.get(name, "") != clean[name]
    }
    if is_new or changes:
        details.updated_at = clock.now()
        details.save()
        locked_tenant.save(update_fields=list(TENANT_FIELDS))
        audit_record(
            actor=actor,
            action=AuditAction.BILLING_DETAILS_UPDATED,
            tenant=locked_tenant,
            details={"changes": changes},
        )
    # The caller's tenant object (request.tenant) shows the saved values from here on.
    for name in TENANT_FIELDS:
        setattr(tenant, name, clean[name])
    details.tenant = tenant
    return details
