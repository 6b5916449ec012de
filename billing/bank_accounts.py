"""A seller's bank accounts: what is checked when one is entered, and which payment details
an invoice shows its buyer.

Norwegian payers expect the bank's name and the domestic account number beside IBAN and
BIC; Swedish payers a bankgiro or plusgiro number where the seller has one. Those are shown
to buyers in that country only; everybody sees the bank's name, IBAN and BIC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from severa.identifiers import IdentifierError
from severa.identifiers.bank import (
    bankgiro_clean,
    bankgiro_display,
    bic_clean,
    iban_clean,
    norwegian_account_clean,
    norwegian_account_display,
    norwegian_account_of_iban,
    plusgiro_clean,
    plusgiro_display,
)

SELLER_BANK_ACCOUNT_FIELDS = (
    "iban",
    "bic",
    "bank_name",
    "domestic_account_number",
    "bankgiro",
    "plusgiro",
)


def seller_bank_account_clean(*, currency: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Every field of a seller's bank account in its stored form, or ValidationError with
    the message of every wrong field. A Norwegian account number goes with a Norwegian IBAN
    and must be the account inside it; bankgiro and plusgiro go with a SEK account."""
    raw = {name: str(data.get(name) or "").strip() for name in SELLER_BANK_ACCOUNT_FIELDS}
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {"bank_name": raw["bank_name"]}
    checks = {
        "iban": iban_clean,
        "bic": bic_clean,
        "domestic_account_number": norwegian_account_clean,
        "bankgiro": bankgiro_clean,
        "plusgiro": plusgiro_clean,
    }
    for name, check in checks.items():
        try:
            clean[name] = check(raw[name])
        except IdentifierError as error:
            errors.setdefault(name, []).append(error.message)
    for name in ("iban", "bic"):
        if not raw[name]:
            errors.setdefault(name, []).append(_("Fill in this field."))
    if not errors:
        in_iban = norwegian_account_of_iban(clean["iban"])
        domestic = clean["domestic_account_number"]
        if domestic and not in_iban:
            errors["domestic_account_number"] = [
                _("A Norwegian account number goes with a Norwegian IBAN (NO…).")
            ]
        elif domestic and domestic != in_iban:
            errors["domestic_account_number"] = [
                _("This is not the account of IBAN %(iban)s, whose account number is %(number)s.")
                % {"iban": clean["iban"], "number": norwegian_account_display(in_iban)}
            ]
        for name in ("bankgiro", "plusgiro"):
            if clean[name] and currency != "SEK":
                errors[name] = [_("Bankgiro and plusgiro numbers are for SEK accounts.")]
    if errors:
        raise ValidationError(errors)
    return clean


@dataclass(frozen=True)
class DomesticDetail:
    label: str
    value: str


def domestic_payment_details(
    account: Mapping[str, Any], *, buyer_country: str
) -> tuple[DomesticDetail, ...]:
    """The domestic numbers to print beside IBAN and BIC for a buyer in `buyer_country`:
    a Norwegian account number for a Norwegian buyer, bankgiro and plusgiro for a Swedish
    one; nothing for others. `account` is a frozen account (SellerBankAccount.snapshot)."""
    details = []
    if buyer_country == "NO":
        number = str(account.get("domestic_account_number") or "") or norwegian_account_of_iban(
            str(account.get("iban") or "")
        )
        if number:
            details.append(DomesticDetail(_("Account number"), norwegian_account_display(number)))
    elif buyer_country == "SE":
        if account.get("bankgiro"):
            details.append(DomesticDetail(_("Bankgiro"), bankgiro_display(account["bankgiro"])))
        if account.get("plusgiro"):
            details.append(DomesticDetail(_("Plusgiro"), plusgiro_display(account["plusgiro"])))
    return tuple(details)
