"""The buyer as an order or invoice names it, frozen when the document is made."""

from __future__ import annotations

from typing import Any

ADDRESS_FIELDS = ("street_address", "postal_code", "city")
EINVOICE_FIELDS = ("einvoice_address", "einvoice_operator", "peppol_id")


def buyer_snapshot(
    *,
    name: str,
    country: str,
    business_id: str,
    vat_number: str,
    details: Any | None,
    einvoice: bool = False,
) -> dict[str, Any]:
    """The buyer's party: its name, country and identifiers, and from its billing details
    (``details``, any object with those fields, or None) the postal address; with
    ``einvoice``, also the e-invoice address and the address's country (invoices)."""
    snapshot: dict[str, Any] = {
        "name": name,
        "country": country,
        "business_id": business_id,
        "vat_number": vat_number,
    }
    if details is None:
        return snapshot
    for field in ADDRESS_FIELDS + (EINVOICE_FIELDS if einvoice else ()):
        value = getattr(details, field, "")
        if value:
            snapshot[field] = value
    if einvoice and getattr(details, "country", ""):
        snapshot["address_country"] = details.country
    return snapshot
