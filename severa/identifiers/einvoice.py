"""Finnish eInvoice (Finvoice) delivery: the eInvoice address (an OVT code or an IBAN) and
the operator (intermediator) that carries the invoice there."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import bic
from stdnum import exceptions as stdnum_exceptions
from stdnum.fi import ytunnus as fi_ytunnus

from severa.identifiers.bank import iban_checked
from severa.identifiers.errors import Reason, compact_text, invalid, is_digits

OPERATORS_CSV = Path(__file__).resolve().parent.parent / "data" / "finnish_einvoice_operators.csv"
# Where a Finnish company finds its own eInvoice address and operator id.
EINVOICE_REGISTER_URL = "https://verkkolaskuosoite.fi"
FINNISH_OVT_PREFIX = "0037"  # ISO 6523 ICD of Finnish business ids
OVT_SUFFIX_MAX_LENGTH = 5
_OVT_SUFFIX = re.compile(r"[0-9A-Z]*")
OVT_SHAPE = gettext_lazy(
    "An OVT code is 0037, the 8 digits of a Finnish business id and an optional suffix of up "
    "to 5 characters, e.g. 003715728600."
)


def einvoice_address_clean(value: str) -> str:
    """A Finnish eInvoice address: an OVT code (0037 + business id + optional suffix) or an
    IBAN. Returned compact and upper-case."""
    compact = compact_text(value)
    if not compact:
        return ""
    if compact.startswith(FINNISH_OVT_PREFIX) and compact.isalnum():
        return ovt_code_clean(compact)
    if compact[:2].isalpha():
        return _iban(compact)
    raise invalid(
        Reason.FORMAT,
        _("%(value)s is neither an OVT code nor an IBAN.") % {"value": compact},
        OVT_SHAPE,
    )


def ovt_code_clean(value: str) -> str:
    """A Finnish OVT code: 0037, a business id's 8 digits (valid check digit) and an
    optional suffix of 0 to 5 letters or digits, e.g. 003715728600 or 00371572860012345."""
    compact = compact_text(value)
    if not compact.startswith(FINNISH_OVT_PREFIX):
        raise invalid(
            Reason.FORMAT, _("%(value)s does not start with 0037.") % {"value": compact}, OVT_SHAPE
        )
    business_id = compact[4:12]
    suffix = compact[12:]
    if len(business_id) < 8 or len(suffix) > OVT_SUFFIX_MAX_LENGTH:
        raise invalid(
            Reason.LENGTH,
            _("%(value)s has %(count)d characters; an OVT code has 12 to 17.")
            % {"value": compact, "count": len(compact)},
            OVT_SHAPE,
        )
    if not is_digits(business_id) or not _OVT_SUFFIX.fullmatch(suffix):
        raise invalid(
            Reason.FORMAT,
            _("%(value)s has characters that do not belong in an OVT code.") % {"value": compact},
            OVT_SHAPE,
        )
    try:
        fi_ytunnus.validate(business_id)
    except stdnum_exceptions.ValidationError:
        raise invalid(
            Reason.CHECKSUM,
            _(
                "the business id in %(value)s (%(business_id)s) has a wrong check digit: "
                "look for a typo."
            )
            % {"value": compact, "business_id": f"{business_id[:7]}-{business_id[7]}"},
            OVT_SHAPE,
        ) from None
    return compact


def _iban(compact: str) -> str:
    return iban_checked(
        compact,
        shape=gettext_lazy("An IBAN is a country code, 2 check digits and the account number."),
        not_an_iban=_("%(value)s is neither an OVT code nor an IBAN."),
        not_an_iban_shape=OVT_SHAPE,
    )


@cache
def einvoice_operators() -> dict[str, str]:
    """Known Finnish eInvoice operators (intermediators): id -> name, from
    ``severa/data/finnish_einvoice_operators.csv``."""
    with OPERATORS_CSV.open(newline="", encoding="utf-8") as data:
        return {row["id"].strip().upper(): row["name"].strip() for row in csv.DictReader(data)}


def einvoice_operator_clean(value: str) -> str:
    """A known eInvoice operator id: a bank's BIC (NDEAFIHH) or an operator code
    (003723327487). An unknown id is refused with where to find the right one."""
    compact = compact_text(value)
    if not compact:
        return ""
    if compact in einvoice_operators():
        return compact
    how_to_find = _(
        "Your operator id (intermediator id) is in the e-invoicing details your bank or "
        "eInvoice operator gave you, and in the Finnish eInvoice address register at "
        "%(register)s. Banks use their BIC (e.g. NDEAFIHH for Nordea, OKOYFIHH for OP), "
        "operators a code (e.g. 003723327487 for Apix, 003721291126 for Maventa). If your "
        "operator is missing from our list, contact Severa support."
    ) % {"register": EINVOICE_REGISTER_URL}
    if is_digits(compact) or bic.is_valid(compact):
        raise invalid(
            Reason.UNKNOWN,
            _("%(value)s is not on our list of Finnish eInvoice operators.") % {"value": compact},
            how_to_find,
            heading=_("Unknown eInvoice operator"),
        )
    raise invalid(
        Reason.FORMAT,
        _("%(value)s is neither a BIC nor an operator code.") % {"value": compact},
        how_to_find,
    )


def country_uses_einvoice_address(country: str) -> bool:
    """Finvoice eInvoice addresses and operators are a Finnish system."""
    return (country or "").upper() == "FI"
