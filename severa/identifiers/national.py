"""National numbers of Finland, Sweden, Norway and Denmark (and EU VAT numbers): VAT
numbers, business ids and postal codes."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import exceptions as stdnum_exceptions
from stdnum.dk import cvr as dk_cvr
from stdnum.eu import vat as eu_vat
from stdnum.fi import alv as fi_alv
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from severa.identifiers.errors import (
    Reason,
    check_digits,
    checksum_detail,
    compact_text,
    invalid,
    is_digits,
)
from severa.vat import VAT_NUMBER_COUNTRIES

# The shape of each number where it can be checked, as the sentence the user reads.
VAT_NUMBER_SHAPES: dict[str, Promise] = {
    "FI": gettext_lazy("A Finnish VAT number is FI and 8 digits, e.g. FI15728600."),
    "SE": gettext_lazy(
        "A Swedish VAT number is SE and 12 digits ending in 01, e.g. SE556036079301."
    ),
    "NO": gettext_lazy("A Norwegian VAT number is NO, 9 digits and MVA, e.g. NO974760673MVA."),
    "DK": gettext_lazy("A Danish VAT number is DK and 8 digits, e.g. DK13585628."),
}
BUSINESS_ID_SHAPES: dict[str, Promise] = {
    "FI": gettext_lazy(
        "A Finnish business id (Y-tunnus) is 7 digits, a hyphen and a check digit, e.g. 1572860-0."
    ),
    "SE": gettext_lazy("A Swedish organisation number is 10 digits, e.g. 556036-0793."),
    "NO": gettext_lazy("A Norwegian organisation number is 9 digits, e.g. 974760673."),
    "DK": gettext_lazy("A Danish CVR number is 8 digits, e.g. 13585628."),
}
BUSINESS_ID_COUNTRIES: frozenset[str] = frozenset(BUSINESS_ID_SHAPES)


# VAT numbers ----------------------------------------------------------------------------


def vat_number_clean(country: str, number: str) -> str:
    """The VAT number of a company registered in ``country``, compact with its prefix.

    The prefix may be left out (``15728600`` is ``FI15728600`` for a Finnish company); a
    prefix of another country is refused. Finnish, Swedish, Norwegian and Danish numbers are
    checked digit by digit with a reason; other EU countries' with python-stdnum's EU rules.
    Countries whose numbers cannot be checked keep the number as typed, compacted.
    """
    country = (country or "").strip().upper()
    compact = compact_text(number)
    if not compact:
        return ""
    if country not in VAT_NUMBER_COUNTRIES:
        return compact
    prefix = "EL" if country == "GR" else country  # Greek VAT numbers carry EL
    body = compact
    if compact[:2].isalpha():
        if compact[:2] != prefix:
            raise invalid(
                Reason.COUNTRY,
                _(
                    "%(number)s starts with %(given)s, but the company is registered in "
                    "%(country)s, whose VAT numbers start with %(prefix)s."
                )
                % {"number": compact, "given": compact[:2], "country": country, "prefix": prefix},
                VAT_NUMBER_SHAPES.get(country, ""),
            )
        body = compact[2:]
    shown = prefix + body
    if country == "FI":
        check_digits(shown, body, length=8, validate=fi_alv.validate, shape=VAT_NUMBER_SHAPES["FI"])
        return "FI" + body
    if country == "SE":
        shape = VAT_NUMBER_SHAPES["SE"]
        if is_digits(body) and len(body) == 12 and not body.endswith("01"):
            raise invalid(
                Reason.FORMAT, _("%(number)s does not end in 01.") % {"number": shown}, shape
            )
        # The last two digits are the fixed 01; the Luhn check is on the organisation number.
        check_digits(
            shown, body, length=12, validate=lambda v: se_orgnr.validate(v[:10]), shape=shape
        )
        return "SE" + body
    if country == "NO":
        body = body.removesuffix("MVA")
        check_digits(
            shown,
            body,
            length=9,
            validate=lambda v: no_mva.validate(v + "MVA"),
            shape=VAT_NUMBER_SHAPES["NO"],
        )
        return "NO" + body + "MVA"
    if country == "DK":
        check_digits(shown, body, length=8, validate=dk_cvr.validate, shape=VAT_NUMBER_SHAPES["DK"])
        return "DK" + body
    return _eu_vat_number(prefix + body)


def _eu_vat_number(number: str) -> str:
    try:
        return eu_vat.validate(number)
    except stdnum_exceptions.InvalidChecksum:
        raise invalid(Reason.CHECKSUM, checksum_detail(number)) from None
    except stdnum_exceptions.InvalidLength:
        raise invalid(
            Reason.LENGTH, _("%(number)s is too short or too long.") % {"number": number}
        ) from None
    except stdnum_exceptions.ValidationError:
        raise invalid(
            Reason.FORMAT,
            _("%(number)s is not written as a VAT number of its country.") % {"number": number},
        ) from None


def vat_number_expected(country: str, business_id: str) -> str | None:
    """The VAT number that belongs to a (clean) business id, where the country derives one
    from the other: Finland FI + the digits, Sweden SE + the number + 01, Norway NO + the
    number + MVA. None elsewhere (a Danish company may be VAT-registered under another
    number than its CVR)."""
    digits = re.sub(r"\D", "", business_id or "")
    if not digits:
        return None
    return {
        "FI": f"FI{digits}",
        "SE": f"SE{digits}01",
        "NO": f"NO{digits}MVA",
    }.get((country or "").upper())


# Postal codes ---------------------------------------------------------------------------

_POSTAL_CODE_DIGITS: dict[str, tuple[int, Promise]] = {
    "FI": (5, gettext_lazy("A Finnish postal code is 5 digits, e.g. 00100.")),
    "SE": (5, gettext_lazy("A Swedish postal code is 5 digits, e.g. 111 22.")),
    "NO": (4, gettext_lazy("A Norwegian postal code is 4 digits, e.g. 0150.")),
    "DK": (4, gettext_lazy("A Danish postal code is 4 digits, e.g. 2100.")),
}


def postal_code_clean(country: str, value: str) -> str:
    """A postal code of an address in ``country``: digits checked in the Nordic countries
    (Swedish ones written 111 22), others kept as typed, trimmed."""
    country = (country or "").strip().upper()
    typed = " ".join((value or "").split())
    if not typed or country not in _POSTAL_CODE_DIGITS:
        return typed
    length, shape = _POSTAL_CODE_DIGITS[country]
    digits = typed.replace(" ", "")
    if not is_digits(digits):
        raise invalid(
            Reason.FORMAT,
            _("%(number)s has characters other than digits.") % {"number": typed},
            shape,
        )
    if len(digits) != length:
        raise invalid(
            Reason.LENGTH,
            _("%(number)s has %(count)d digits instead of %(length)d.")
            % {"number": typed, "count": len(digits), "length": length},
            shape,
        )
    return f"{digits[:3]} {digits[3:]}" if country == "SE" else digits


# Business ids ---------------------------------------------------------------------------


def business_id_clean(country: str, value: str) -> str:
    """The business id of a company registered in ``country``, in its stored form.

    Finnish (Y-tunnus), Swedish (organisationsnummer), Norwegian (organisasjonsnummer) and
    Danish (CVR) numbers are checked; other countries' are kept as typed, trimmed.
    """
    country = (country or "").strip().upper()
    typed = (value or "").strip()
    if not typed:
        return ""
    if country == "FI":
        return fi_ytunnus.format(finnish_business_id_digits(typed))
    if country == "SE":
        return check_digits(
            typed,
            se_orgnr.compact(typed),
            length=10,
            validate=se_orgnr.validate,
            shape=BUSINESS_ID_SHAPES["SE"],
        )
    if country == "NO":
        return check_digits(
            typed,
            no_orgnr.compact(typed),
            length=9,
            validate=no_orgnr.validate,
            shape=BUSINESS_ID_SHAPES["NO"],
        )
    if country == "DK":
        return check_digits(
            typed,
            dk_cvr.compact(typed),
            length=8,
            validate=dk_cvr.validate,
            shape=BUSINESS_ID_SHAPES["DK"],
        )
    return typed


def finnish_business_id_digits(typed: str) -> str:
    """The 8 digits of a Finnish business id typed as 1572860-0, 15728600 or FI15728600."""
    return check_digits(
        typed,
        fi_ytunnus.compact(typed),
        length=8,
        validate=fi_ytunnus.validate,
        shape=BUSINESS_ID_SHAPES["FI"],
    )
