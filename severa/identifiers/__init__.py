"""Checks of the identifiers in a tenant's billing details (DESIGN §3.6): VAT numbers,
business ids, Finnish eInvoice addresses and operators, and Peppol participant ids.

Pure functions: each takes what the user typed and returns the identifier in the form it is
stored in, or raises ``IdentifierError`` whose ``reason`` says what is wrong (checksum,
length, format, country, unknown) and whose message says it in words with the expected
shape and an example. Offline only (python-stdnum): no VIES or registry lookup, so a
well-formed number of a closed company still passes. Blank input gives "" (whether a field
may be blank is the caller's rule).

Stored forms: VAT numbers compact with their country prefix (``FI15728600``,
``SE556036079301``, ``NO974760673MVA``, ``DK13585628``); business ids as the registry
writes them (``1572860-0`` in Finland, where the hyphen is part of the official form;
digits only in Sweden, Norway and Denmark); eInvoice addresses and operator ids compact and
upper-case; Peppol ids ``<scheme>:<identifier>`` with the identifier compact.
"""

from severa.identifiers.einvoice import (
    EINVOICE_REGISTER_URL,
    country_uses_einvoice_address,
    einvoice_address_clean,
    einvoice_operator_clean,
    einvoice_operators,
    ovt_code_clean,
)
from severa.identifiers.errors import IdentifierError, Reason
from severa.identifiers.national import (
    BUSINESS_ID_COUNTRIES,
    business_id_clean,
    postal_code_clean,
    vat_number_clean,
    vat_number_expected,
)
from severa.identifiers.peppol import PEPPOL_SCHEMES, PeppolScheme, peppol_id_clean

__all__ = [
    "BUSINESS_ID_COUNTRIES",
    "EINVOICE_REGISTER_URL",
    "PEPPOL_SCHEMES",
    "IdentifierError",
    "PeppolScheme",
    "Reason",
    "business_id_clean",
    "country_uses_einvoice_address",
    "einvoice_address_clean",
    "einvoice_operator_clean",
    "einvoice_operators",
    "ovt_code_clean",
    "peppol_id_clean",
    "postal_code_clean",
    "vat_number_clean",
    "vat_number_expected",
]
