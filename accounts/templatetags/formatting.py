from decimal import Decimal

from django import template

from accounts import locale_format

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """``{{ amount|money:"EUR" }}`` → "1 234,50 €" in Finnish, "€1,234.50" in English."""
    if amount is None or amount == "":
        return ""
    return locale_format.money_format(Decimal(amount), currency)


@register.filter
def number(amount: Decimal | None) -> str:
    """``{{ line.quantity|number }}`` → "5", "2.5" ("2,5" in Finnish): no trailing zeros."""
    if amount is None or amount == "":
        return ""
    return locale_format.number_format(Decimal(amount))


@register.filter
def ldate(value) -> str:
    return locale_format.date_format(value) if value else ""


@register.filter
def ldatetime(value) -> str:
    return locale_format.datetime_format(value) if value else ""
