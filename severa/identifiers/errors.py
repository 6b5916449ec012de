"""What every identifier check raises, and the helpers they share."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exceptions


class Reason(StrEnum):
    CHECKSUM = "checksum"
    LENGTH = "length"
    FORMAT = "format"
    COUNTRY = "country"
    UNKNOWN = "unknown"


class IdentifierError(ValueError):
    """An identifier that is not valid; ``str(error)`` is the message for the user."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


SEPARATORS = re.compile(r"[\s.\-/]")


def is_digits(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts other scripts' digits and
    superscripts, which no registry number contains."""
    return value.isascii() and value.isdigit()


def compact_text(value: str) -> str:
    return SEPARATORS.sub("", value or "").upper()


def invalid(
    reason: Reason, detail: str, shape: Promise | str = "", *, heading: str = ""
) -> IdentifierError:
    """An error whose message starts with the reason: "Invalid checksum: <detail> <shape>"."""
    heading = (
        heading
        or {
            Reason.CHECKSUM: _("Invalid checksum"),
            Reason.LENGTH: _("Invalid length"),
            Reason.FORMAT: _("Invalid format"),
            Reason.COUNTRY: _("Wrong country"),
            Reason.UNKNOWN: _("Not supported"),
        }[reason]
    )
    return IdentifierError(reason, f"{heading}: {detail} {shape}".strip())


def check_digits(
    shown: str,
    digits: str,
    *,
    length: int,
    validate: Callable[[str], object],
    shape: Promise | str,
) -> str:
    """Check that ``digits`` are ``length`` digits that ``validate`` (a python-stdnum
    validator) accepts; ``shown`` is what the user typed, for the message."""
    if not is_digits(digits):
        raise invalid(
            Reason.FORMAT,
            _("%(number)s has characters other than digits.") % {"number": shown},
            shape,
        )
    if len(digits) != length:
        raise invalid(
            Reason.LENGTH,
            _("%(number)s has %(count)d digits instead of %(length)d.")
            % {"number": shown, "count": len(digits), "length": length},
            shape,
        )
    try:
        validate(digits)
    except stdnum_exceptions.InvalidChecksum:
        raise invalid(Reason.CHECKSUM, checksum_detail(shown), shape) from None
    except stdnum_exceptions.ValidationError:
        raise invalid(
            Reason.FORMAT, _("%(number)s is not a number of this kind.") % {"number": shown}, shape
        ) from None
    return digits


def checksum_detail(shown: str) -> str:
    return _("the check digit of %(number)s does not match its other digits: look for a typo.") % {
        "number": shown
    }
