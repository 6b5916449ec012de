"""Dates and money formatted for the active language, with Babel."""

import datetime
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.utils import timezone, translation

BABEL_LOCALES = {"en": "en_GB", "fi": "fi_FI", "sv": "sv_SE", "nb": "nb_NO"}
# The time zone a company's users read times in (e-mails); elsewhere settings.TIME_ZONE.
TIME_ZONE_BY_COUNTRY = {
    "FI": "Europe/Helsinki",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "DK": "Europe/Copenhagen",
}


def country_time_zone(country: str | None) -> str:
    return TIME_ZONE_BY_COUNTRY.get((country or "").upper(), settings.TIME_ZONE)


def babel_locale(language: str | None = None) -> str:
    language = (language or translation.get_language() or "en").split("-")[0]
    return BABEL_LOCALES.get(language, "en_GB")


def money_format(amount: Decimal, currency: str, language: str | None = None) -> str:
    # Keyed by the text: 93.6 and 93.60 are equal Decimals, and so are 0 and -0.
    return _money(str(amount), currency, babel_locale(language))


# Lists show the same dates and amounts again and again; Babel parses its patterns on each call.
@lru_cache(maxsize=4096)
def _money(amount: str, currency: str, locale: str) -> str:
    return format_currency(Decimal(amount), currency, locale=locale)


def decimal_format(amount: Decimal, language: str | None = None) -> str:
    return format_decimal(amount, locale=babel_locale(language))


def number_format(amount: Decimal, language: str | None = None) -> str:
    """A quantity or a rate without trailing zeros: 25.50 -> "25.5" ("25,5" in Finnish),
    24.00 -> "24"."""
    # normalize() alone would write 24 as 2.4E+1.
    shown = (
        amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    )
    return decimal_format(shown, language)


def date_format(value: datetime.date | str, language: str | None = None) -> str:
    """A date, or its ISO text (e-mail contexts are JSON), for the active language."""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    if isinstance(value, datetime.datetime):
        return format_date(value, format="medium", locale=babel_locale(language))
    return _date(value, babel_locale(language))


@lru_cache(maxsize=4096)
def _date(value: datetime.date, locale: str) -> str:
    return format_date(value, format="medium", locale=locale)


def datetime_format(value: datetime.datetime | str, language: str | None = None) -> str:
    """A moment, or its ISO text, in the active time zone and language."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return format_datetime(
        timezone.localtime(value),
        format="medium",
        tzinfo=timezone.get_current_timezone(),
        locale=babel_locale(language),
    )


def month_format(value: datetime.date, language: str | None = None) -> str:
    """A month as a chart labels it: "Jun 2025" ("kesä 2025" in Finnish)."""
    return format_date(value, format="LLL yyyy", locale=babel_locale(language))
