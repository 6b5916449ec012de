from decimal import Decimal

from django import template

from accounts import locale_format

register = template.Library()


@register.filter
def percent(rate: Decimal | None) -> str:
    """``{{ rate|percent }}`` → "25.5", "0", "24" ("25,5" in Finnish): a VAT rate without
    trailing zeros, in the active language (add the % sign in the template)."""
    if rate is None or rate == "":
        return ""
    return locale_format.number_format(Decimal(rate))
