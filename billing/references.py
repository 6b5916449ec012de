"""Payment references with check digits, so a bank can refuse a mistyped one.

- Finland: national reference (viitenumero): base of 3-19 digits + one check digit computed
  with weights 7, 3, 1 repeating from the right.
- Sweden: OCR number (Bankgirot): Luhn (mod 10) check digit, optionally preceded by a length
  digit (total length mod 10).
- Norway: KID: Luhn (mod 10) check digit, or mod 11 (weights 2..7 from the right).
- Elsewhere: RF creditor reference (ISO 11649): "RF" + two mod-97 check digits + base.

python-stdnum provides Luhn (`stdnum.luhn`), ISO 7064 mod 97-10 and ISO 11649; it has no
module for the Finnish reference or the KID mod 11 variant, so those two are written here.
"""

from __future__ import annotations

from typing import Literal

from stdnum import iso11649, luhn
from stdnum.iso7064 import mod_97_10

KidAlgorithm = Literal["mod10", "mod11"]

# Finnish reference: the base is 3-19 digits, the whole reference 4-20 (Finanssiala's rules).
FINNISH_BASE_MIN_DIGITS = 3
FINNISH_BASE_MAX_DIGITS = 19
_FINNISH_WEIGHTS = (7, 3, 1)

# Bankgirot OCR numbers and Norwegian KIDs are 2-25 digits including the check digit.
OCR_MAX_DIGITS = 25
KID_MIN_DIGITS = 2
KID_MAX_DIGITS = 25

# ISO 11649: at most 21 alphanumeric characters after "RF" and the two check digits.
RF_BASE_MAX_CHARACTERS = 21

_KID_MOD11_WEIGHTS = (2, 3, 4, 5, 6, 7)


def _digits(base: str | int, name: str) -> str:
    """`base` as a string of digits; ints and digit strings with spaces are accepted."""
    if isinstance(base, bool):
        raise TypeError(f"{name} must be a str or int, not bool")
    if isinstance(base, int):
        if base < 0:
            raise ValueError(f"{name} must not be negative")
        return str(base)
    if not isinstance(base, str):
        raise TypeError(f"{name} must be a str or int, not {type(base).__name__}")
    compact = base.replace(" ", "")
    if not (compact.isascii() and compact.isdigit()):
        raise ValueError(f"{name} must contain only digits, got {base!r}")
    return compact


# --- Finland ------------------------------------------------------------------------------


def finnish_reference_check_digit(base: str | int) -> str:
    """Check digit of a Finnish national reference for `base` (weights 7-3-1 from the right)."""
    digits = _digits(base, "base")
    total = sum(
        int(digit) * _FINNISH_WEIGHTS[position % 3]
        for position, digit in enumerate(reversed(digits))
    )
    # The check digit is the distance up to the next multiple of ten (0 if already one).
    return str(-total % 10)


def finnish_reference(base: str | int) -> str:
    """Finnish national reference: `base` (3-19 digits, no leading zero) + check digit."""
    digits = _digits(base, "base")
    if not FINNISH_BASE_MIN_DIGITS <= len(digits) <= FINNISH_BASE_MAX_DIGITS:
        raise ValueError(
            f"a Finnish reference base has {FINNISH_BASE_MIN_DIGITS}-{FINNISH_BASE_MAX_DIGITS} "
            f"digits, got {len(digits)}"
        )
    # Banks drop leading zeros, which would change the reference the payment carries back.
    if digits[0] == "0":
        raise ValueError("a Finnish reference base must not start with 0")
    return digits + finnish_reference_check_digit(digits)


def is_valid_finnish_reference(reference: str) -> bool:
    """Whether `reference` (spaces allowed) is a Finnish national reference."""
    compact = reference.replace(" ", "")
    if not (compact.isascii() and compact.isdigit()):
        return False
    try:
        return finnish_reference(compact[:-1]) == compact
    except ValueError:
        return False


def format_finnish_reference(reference: str) -> str:
    """Print form: groups of five digits counted from the right, e.g. '12 34561'."""
    compact = reference.replace(" ", "")
    head_length = len(compact) % 5
    groups = [compact[:head_length]] if head_length else []
    groups += [compact[i : i + 5] for i in range(head_length, len(compact), 5)]
    return " ".join(groups)


# --- RF creditor reference (ISO 11649) -----------------------------------------------------


def rf_reference(base: str | int) -> str:
    """ISO 11649 creditor reference: 'RF' + two check digits + `base` (1-21 letters/digits)."""
    if isinstance(base, bool):
        raise TypeError("base must be a str or int, not bool")
    compact = str(base).replace(" ", "").upper()
    if not (compact.isascii() and compact.isalnum()):
        raise ValueError(f"an RF reference base has only letters and digits, got {base!r}")
    if not 1 <= len(compact) <= RF_BASE_MAX_CHARACTERS:
        raise ValueError(
            f"an RF reference base has 1-{RF_BASE_MAX_CHARACTERS} characters, got {len(compact)}"
        )
    # ISO 11649 checks base + "RF" + check digits with ISO 7064 mod 97-10 (like an IBAN).
    reference = "RF" + mod_97_10.calc_check_digits(compact + "RF") + compact
    return iso11649.validate(reference)


def is_valid_rf_reference(reference: str) -> bool:
    return iso11649.is_valid(reference)


# --- Sweden: OCR ---------------------------------------------------------------------------


def swedish_ocr(base: str | int, *, with_length_digit: bool = False) -> str:
    """Swedish OCR reference: `base` [+ length digit] + Luhn check digit.

    The length digit is the total length (length digit and check digit included) mod 10, for
    bankgiro accounts set up with "variable length with length check".
    """
    digits = _digits(base, "base")
    if not digits:
        raise ValueError("an OCR base must have at least one digit")
    if with_length_digit:
        digits += str((len(digits) + 2) % 10)
    reference = digits + luhn.calc_check_digit(digits)
    if len(reference) > OCR_MAX_DIGITS:
        raise ValueError(f"an OCR number has at most {OCR_MAX_DIGITS} digits")
    return reference


def is_valid_swedish_ocr(reference: str, *, with_length_digit: bool = False) -> bool:
    compact = reference.replace(" ", "")
    if not (compact.isascii() and compact.isdigit()) or not 2 <= len(compact) <= OCR_MAX_DIGITS:
        return False
    if with_length_digit and (len(compact) < 3 or int(compact[-2]) != len(compact) % 10):
        return False
    return luhn.is_valid(compact)


# --- Norway: KID ---------------------------------------------------------------------------


def _kid_mod11_check_digit(digits: str) -> str:
    total = sum(
        int(digit) * _KID_MOD11_WEIGHTS[position % 6]
        for position, digit in enumerate(reversed(digits))
    )
    check = -total % 11
    # 11 - 0 is written 0; 10 cannot be a digit and is written "-" (allowed in KID validation).
    return "-" if check == 10 else str(check)


def norwegian_kid(base: str | int, *, algorithm: KidAlgorithm = "mod10") -> str:
    """Norwegian KID: `base` + check digit (Luhn "mod10", or "mod11").

    With mod11 some bases would need "-" as check digit; banks' forms often reject it, so such
    bases are refused (ValueError) rather than issued.
    """
    digits = _digits(base, "base")
    if not KID_MIN_DIGITS - 1 <= len(digits) <= KID_MAX_DIGITS - 1:
        raise ValueError(f"a KID has {KID_MIN_DIGITS}-{KID_MAX_DIGITS} digits")
    if algorithm == "mod10":
        return digits + luhn.calc_check_digit(digits)
    if algorithm == "mod11":
        check = _kid_mod11_check_digit(digits)
        if check == "-":
            raise ValueError(f"base {digits} has no numeric mod-11 check digit; use mod10")
        return digits + check
    raise ValueError(f"unknown KID algorithm {algorithm!r}")


def is_valid_norwegian_kid(reference: str) -> bool:
    """Whether `reference` is a KID under either mod 10 (Luhn) or mod 11."""
    compact = reference.replace(" ", "")
    if not KID_MIN_DIGITS <= len(compact) <= KID_MAX_DIGITS or not compact.isascii():
        return False
    body, check = compact[:-1], compact[-1]
    if not body.isdigit() or not (check.isdigit() or check == "-"):
        return False
    return (check != "-" and luhn.is_valid(compact)) or _kid_mod11_check_digit(body) == check


# --- Choice per country --------------------------------------------------------------------


def reference_for(country: str, base: str | int) -> str:
    """The payment reference a buyer in `country` can use: FI -> Finnish national reference,
    SE -> OCR (Luhn), NO -> KID (Luhn), anything else -> RF creditor reference."""
    country = country.strip().upper()
    if country == "FI":
        return finnish_reference(base)
    if country == "SE":
        return swedish_ocr(base)
    if country == "NO":
        return norwegian_kid(base)
    return rf_reference(base)


def reference_display(reference: str, *, country: str) -> str:
    """Print form of a reference issued by `reference_for(country, …)`: an RF reference in
    groups of four characters ('RF18 5390 0754 7034'), a Finnish national reference in groups
    of five digits counted from the right ('1 00000 13'), an OCR number or a KID as it is."""
    compact = reference.replace(" ", "").upper()
    if compact.startswith("RF"):
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    if country.strip().upper() == "FI":
        return format_finnish_reference(compact)
    return compact
