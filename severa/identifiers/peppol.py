"""Peppol participant ids: ``<EAS scheme>:<identifier>``, with the schemes invoices can be
delivered to and each identifier checked for its scheme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import ean

from severa.identifiers.einvoice import ovt_code_clean
from severa.identifiers.errors import IdentifierError, Reason, check_digits, invalid
from severa.identifiers.national import business_id_clean, finnish_business_id_digits

PEPPOL_PREFIX = "iso6523-actorid-upqp::"


@dataclass(frozen=True)
class PeppolScheme:
    code: str
    name: str  # as in the EAS code list of Peppol BIS Billing 3.0
    description: Promise
    example: str
    clean: Callable[[str], str]  # the identifier in its stored form, or IdentifierError


def _gln(identifier: str) -> str:
    return check_digits(
        identifier,
        ean.compact(identifier),
        length=13,
        validate=ean.validate,
        shape=gettext_lazy("A GLN is 13 digits, the last one a check digit."),
    )


PEPPOL_SCHEMES: dict[str, PeppolScheme] = {
    scheme.code: scheme
    for scheme in (
        PeppolScheme(
            "0007",
            "Organisationsnummer",
            gettext_lazy("Swedish organisation number"),
            "0007:5560360793",
            partial(business_id_clean, "SE"),
        ),
        PeppolScheme(
            "0037",
            "LY-tunnus",
            gettext_lazy("Finnish business id"),
            "0037:15728600",
            finnish_business_id_digits,
        ),
        PeppolScheme(
            "0088",
            "EAN Location Code",
            gettext_lazy("GS1 global location number, GLN"),
            "0088:7350053850019",
            _gln,
        ),
        PeppolScheme(
            "0184",
            "DIGSTORG",
            gettext_lazy("Danish CVR number"),
            "0184:13585628",
            partial(business_id_clean, "DK"),
        ),
        PeppolScheme(
            "0192",
            "Enhetsregisteret ved Bronnoysundregisterne",
            gettext_lazy("Norwegian organisation number"),
            "0192:974760673",
            partial(business_id_clean, "NO"),
        ),
        PeppolScheme(
            "0216",
            "OVTcode",
            gettext_lazy("Finnish OVT code"),
            "0216:003715728600",
            ovt_code_clean,
        ),
    )
}


def peppol_schemes_text() -> str:
    return ", ".join(f"{scheme.code} ({scheme.description})" for scheme in PEPPOL_SCHEMES.values())


def peppol_id_clean(value: str) -> str:
    """A Peppol participant id ``<scheme>:<identifier>`` with a supported EAS scheme and an
    identifier valid for it. The ``iso6523-actorid-upqp::`` prefix may be given."""
    typed = (value or "").strip()
    if not typed:
        return ""
    if typed.lower().startswith(PEPPOL_PREFIX):
        typed = typed[len(PEPPOL_PREFIX) :]
    shape = _(
        "A Peppol participant id is a scheme code, a colon and an identifier, e.g. %(example)s."
    ) % {"example": PEPPOL_SCHEMES["0216"].example}
    if ":" not in typed:
        raise invalid(Reason.FORMAT, _("%(value)s has no scheme code.") % {"value": typed}, shape)
    scheme_code, identifier = (part.strip() for part in typed.split(":", 1))
    if scheme_code not in PEPPOL_SCHEMES:
        raise invalid(
            Reason.UNKNOWN,
            _("invoices cannot be delivered to Peppol scheme %(scheme)s.")
            % {"scheme": scheme_code},
            _("Use one of %(schemes)s.") % {"schemes": peppol_schemes_text()},
            heading=_("Unsupported scheme"),
        )
    scheme = PEPPOL_SCHEMES[scheme_code]
    if not identifier:
        raise invalid(
            Reason.FORMAT,
            _("%(value)s has no identifier after the scheme.") % {"value": typed},
            shape,
        )
    try:
        clean = scheme.clean(identifier)
    except IdentifierError as error:
        raise IdentifierError(
            error.reason,
            _("%(message)s (Scheme %(scheme)s is a %(description)s, e.g. %(example)s.)")
            % {
                "message": error.message,
                "scheme": scheme.code,
                "description": scheme.description,
                "example": scheme.example,
            },
        ) from None
    return f"{scheme_code}:{clean}"
