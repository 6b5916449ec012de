"""The identifier schemes a party's ids are written with in an e-invoice.

Two code lists are involved, and they differ:

- the legal-entity id (EN 16931 BT-30 / BT-47, Finvoice ``SellerPartyIdentifier@SchemeID``)
  uses the ISO 6523 ICD list: 0037 is the Finnish business id (Y-tunnus), 0007 the Swedish
  organisation number, 0192 the Norwegian organisation number, 0184 the Danish CVR;
- the electronic address (BT-34 / BT-49, UBL ``EndpointID@schemeID``) uses the Peppol EAS
  list, which has **no 0037**: a Finnish company is addressed by its OVT code under 0216
  (0037 + the 8 digits of the business id [+ a suffix]). 0007, 0192, 0184 and 0088 (GLN)
  are in both lists. Checked against the EAS list of the Peppol 2026.5 rules (``eaid``).

A buyer's endpoint comes from its Peppol participant id when it gave one; otherwise (a
download for an accounting import, not a Peppol delivery) it is derived from its eInvoice
address (an OVT code), its business id, or its VAT number under the country's VAT scheme.
"""

from __future__ import annotations

import re

# ISO 6523 ICD of each country's business register (the legal-entity id).
LEGAL_ID_SCHEMES: dict[str, str] = {"FI": "0037", "SE": "0007", "NO": "0192", "DK": "0184"}

EAS_FINNISH_OVT = "0216"
FINNISH_OVT_PREFIX = "0037"

# Peppol EAS codes of VAT numbers, per country (the identifier is the VAT number with its
# prefix). Only used for a buyer with no Peppol id and no Nordic business id.
VAT_ENDPOINT_SCHEMES: dict[str, str] = {
    "AT": "9914",
    "BE": "9925",
    "BG": "9926",
    "CH": "9927",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "ES": "9920",
    "FR": "9957",
    "GB": "9932",
    "GR": "9933",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "IT": "0211",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "SI": "9949",
    "SK": "9950",
}

_NOT_DIGITS = re.compile(r"\D")


def business_id_digits(country: str, business_id: str) -> str:
    """A Nordic business id as the digits registers and Peppol use: 1572860-0 -> 15728600,
    556036-0793 -> 5560360793. Other countries' ids are returned as stored."""
    if country in LEGAL_ID_SCHEMES:
        return _NOT_DIGITS.sub("", business_id or "")
    return (business_id or "").strip()


def legal_id(country: str, business_id: str) -> tuple[str, str] | None:
    """(ICD scheme or "", identifier) of a company's business id; None without one."""
    value = business_id_digits(country, business_id)
    if not value:
        return None
    return LEGAL_ID_SCHEMES.get(country, ""), value


def finnish_ovt(business_id: str) -> str:
    """The OVT code a Finnish company receives e-invoices at by default: 0037 + its id."""
    return FINNISH_OVT_PREFIX + business_id_digits("FI", business_id)


def endpoint(
    *,
    country: str,
    business_id: str,
    vat_number: str = "",
    peppol_id: str = "",
    einvoice_address: str = "",
) -> tuple[str, str] | None:
    """(EAS scheme, identifier) of a party's electronic address, or None if none can be
    named (such a document is for import only and fails Peppol rule R010/R020)."""
    if peppol_id and ":" in peppol_id:
        scheme, identifier = peppol_id.split(":", 1)
        return scheme.strip(), identifier.strip()
    if einvoice_address.startswith(FINNISH_OVT_PREFIX) and einvoice_address.isalnum():
        return EAS_FINNISH_OVT, einvoice_address
    digits = business_id_digits(country, business_id)
    if digits and country == "FI":
        return EAS_FINNISH_OVT, FINNISH_OVT_PREFIX + digits
    if digits and country in LEGAL_ID_SCHEMES:
        return LEGAL_ID_SCHEMES[country], digits
    if vat_number and country in VAT_ENDPOINT_SCHEMES:
        return VAT_ENDPOINT_SCHEMES[country], vat_with_prefix(country, vat_number)
    return None


def vat_with_prefix(country: str, vat_number: str) -> str:
    """A VAT number with its country prefix (EN 16931 BR-CO-09); Greece's prefix is EL."""
    compact = re.sub(r"[\s.\-/]", "", vat_number or "").upper()
    if not compact or compact[:2].isalpha():
        return compact
    return ("EL" if country == "GR" else country) + compact
