"""Bank accounts: IBAN and BIC, and the domestic numbers payers in Norway and Sweden expect
beside them (a Norwegian 11-digit account number, a Swedish bankgiro or plusgiro number).

Stored forms: IBAN compact and upper-case (``NO6681014453075``), BIC upper-case, domestic
numbers as digits only; ``*_display`` give the printed forms (``8101.44.53075``,
``1234-5674``, ``410681-1``).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import bic, iban, luhn
from stdnum import exceptions as stdnum_exceptions
from stdnum.no import kontonr as no_kontonr

from severa.identifiers.errors import (
    Reason,
    check_digits,
    checksum_detail,
    compact_text,
    invalid,
    is_digits,
)

StrOrPromise = str | Promise

IBAN_SHAPE = gettext_lazy(
    "An IBAN is a country code, 2 check digits and the account number, e.g. NO93 8601 1117 947."
)
BIC_SHAPE = gettext_lazy("A BIC is 8 or 11 letters and digits, e.g. DNBANOKK.")
NORWEGIAN_ACCOUNT_SHAPE = gettext_lazy(
    "A Norwegian account number is 11 digits with a check digit, e.g. 8601.11.17947."
)
BANKGIRO_SHAPE = gettext_lazy("A bankgiro number is 7 or 8 digits, e.g. 1234-5674.")
PLUSGIRO_SHAPE = gettext_lazy("A plusgiro number is 2 to 8 digits, e.g. 410681-1.")


def iban_clean(value: str) -> str:
    """An IBAN in its stored form (compact); "" for blank input."""
    compact = compact_text(value)
    if not compact:
        return ""
    return iban_checked(compact)


def iban_checked(
    compact: str, *, shape=IBAN_SHAPE, not_an_iban=None, not_an_iban_shape=None
) -> str:
    """`compact` checked as an IBAN (python-stdnum), with the reason in words when it is not
    one. An address that may be an IBAN or something else (an eInvoice address) names both
    in `not_an_iban` and `not_an_iban_shape`."""
    try:
        return iban.validate(compact)
    except stdnum_exceptions.InvalidChecksum:
        raise invalid(
            Reason.CHECKSUM,
            _("the check digits of IBAN %(value)s do not match: look for a typo.")
            % {"value": compact},
            shape,
        ) from None
    except stdnum_exceptions.InvalidLength:
        raise invalid(
            Reason.LENGTH,
            _("IBAN %(value)s has the wrong length for its country.") % {"value": compact},
            shape,
        ) from None
    except stdnum_exceptions.ValidationError:
        raise invalid(
            Reason.FORMAT,
            (not_an_iban or _("%(value)s is not an IBAN.")) % {"value": compact},
            not_an_iban_shape or shape,
        ) from None


def bic_clean(value: str) -> str:
    compact = compact_text(value)
    if not compact:
        return ""
    try:
        return bic.validate(compact)
    except stdnum_exceptions.ValidationError:
        raise invalid(
            Reason.FORMAT, _("%(value)s is not a BIC.") % {"value": compact}, BIC_SHAPE
        ) from None


def norwegian_account_clean(value: str) -> str:
    """A Norwegian bank account number (kontonummer): 11 digits whose last is a MOD11 check
    digit. Printed with dots (8601.11.17947) or spaces; stored as the 11 digits."""
    shown = (value or "").strip()
    if not shown:
        return ""
    return check_digits(
        shown,
        compact_text(shown),
        length=11,
        validate=no_kontonr.validate,
        shape=NORWEGIAN_ACCOUNT_SHAPE,
    )


def _giro_clean(value: str, *, lengths: range, shape: object) -> str:
    # Both Swedish giro numbers end in a Luhn (mod 10) check digit.
    shown = (value or "").strip()
    digits = compact_text(shown)
    if not digits:
        return ""
    if not is_digits(digits):
        raise invalid(
            Reason.FORMAT,
            _("%(number)s has characters other than digits.") % {"number": shown},
            shape,
        )
    if len(digits) not in lengths:
        raise invalid(
            Reason.LENGTH,
            _("%(number)s has %(count)d digits.") % {"number": shown, "count": len(digits)},
            shape,
        )
    if not luhn.is_valid(digits):
        raise invalid(Reason.CHECKSUM, checksum_detail(shown), shape)
    return digits


def bankgiro_clean(value: str) -> str:
    return _giro_clean(value, lengths=range(7, 9), shape=BANKGIRO_SHAPE)


def plusgiro_clean(value: str) -> str:
    return _giro_clean(value, lengths=range(2, 9), shape=PLUSGIRO_SHAPE)


def norwegian_account_of_iban(compact_iban: str) -> str:
    """The domestic account number inside a Norwegian IBAN (its last 11 digits); "" for
    another country's."""
    return compact_iban[4:] if compact_iban.startswith("NO") else ""


def norwegian_account_display(digits: str) -> str:
    return no_kontonr.format(digits) if digits else ""


def bankgiro_display(digits: str) -> str:
    """1234-5678 (8 digits) or 123-4567 (7): the last four after a hyphen."""
    return f"{digits[:-4]}-{digits[-4:]}" if digits else ""


def plusgiro_display(digits: str) -> str:
    """410681-1: the check digit after a hyphen."""
    return f"{digits[:-1]}-{digits[-1]}" if digits else ""
