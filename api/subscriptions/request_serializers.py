"""Request bodies of the subscription API: provisioning a tenant and quoting a change.

They check the shape of a body and that every catalog code exists; the business rules (what a
price book sells, what an edition allows) are checked by the services, which the views call
once validation has passed.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from api.fields import seller_of_code
from billing.models import SellerEntity
from severa import clock
from severa.identifiers import IdentifierError, business_id_clean, vat_number_clean
from severa.money import CURRENCY_CHOICES
from severa.vat import ISO_COUNTRY_CODES
from subscriptions.models import AddOn, Edition, Interface
from subscriptions.pricebook import MAX_SEATS, QuoteError
from subscriptions.services import first_period_start_check

# Bounds that keep every figure inside its database column and answer 400 instead of an
# overflow (the seats' bound is the domain's, `subscriptions.pricebook.MAX_SEATS`).
MAX_STORAGE_GB = 1_000_000
MAX_CODES = 50
CODE_LENGTH = 64


def _codes_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.SlugField(max_length=CODE_LENGTH),
        max_length=MAX_CODES,
        required=False,
        help_text=help_text,
    )


def _unknown_codes(model, codes) -> list[str]:
    known = set(model.objects.filter(code__in=codes).values_list("code", flat=True))
    return sorted(set(codes) - known)


class _CatalogCodes:
    """Every catalog code in a request names a catalog item (whether it is sold in the
    subscription's currency and allowed with its edition is the price book's decision)."""

    def validate_edition(self, value: str) -> str:
        if not Edition.objects.filter(code=value).exists():
            raise serializers.ValidationError(f"Unknown edition {value!r}.")
        return value

    def validate_add_ons(self, value: list[str]) -> list[str]:
        unknown = _unknown_codes(AddOn, value)
        if unknown:
            raise serializers.ValidationError(f"Unknown add-ons: {', '.join(unknown)}.")
        return sorted(set(value))

    def validate_interfaces(self, value: list[str]) -> list[str]:
        unknown = _unknown_codes(Interface, value)
        if unknown:
            raise serializers.ValidationError(f"Unknown interfaces: {', '.join(unknown)}.")
        return sorted(set(value))


class TenantProvisionSerializer(_CatalogCodes, serializers.Serializer):
    """A new tenant with its first subscription. Business rules that depend on the price book
    (what is sold in the currency, what the edition allows) are checked in the view."""

    name = serializers.CharField(max_length=200)
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2, e.g. FI."
    )
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="Defaults by country: FI fi, SE sv, NO nb, otherwise en.",
    )
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    business_id = serializers.CharField(
        max_length=40, help_text="Validated for the country (python-stdnum)."
    )
    vat_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional; when given it must be valid for the country.",
    )
    admin_email = serializers.EmailField(
        max_length=254, help_text="Invited by e-mail as the tenant's administrator."
    )
    seller = serializers.CharField(max_length=40, help_text="A seller code from GET /sellers.")
    edition = serializers.SlugField(max_length=CODE_LENGTH)
    seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)
    storage_gb = serializers.IntegerField(
        min_value=0,
        max_value=MAX_STORAGE_GB,
        required=False,
        help_text="Gigabytes: a storage tier's size (GET /catalog storage_tiers) or at most the "
        "edition's included storage. Defaults to the edition's included storage.",
    )
    add_ons = _codes_field("Add-on codes.")
    interfaces = _codes_field("Interface codes.")
    period_months = serializers.ChoiceField(choices=[1, 3, 6, 12])
    first_period_start = serializers.DateField(
        help_text="The 1st of a month, at most a year ahead; may be in the past (the "
        "subscription then starts in the period containing today, and only that period is "
        "ordered)."
    )

    def validate_country(self, value: str) -> str:
        value = value.upper()
        if value not in ISO_COUNTRY_CODES:
            raise serializers.ValidationError("Not an ISO 3166 country code.")
        return value

    def validate_seller(self, value: str) -> SellerEntity:
        return seller_of_code(value)

    def validate_first_period_start(self, value):
        try:
            return first_period_start_check(start=value, today=clock.today())
        except QuoteError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs: dict) -> dict:
        """The business id and VAT number must be valid for the country; both are stored in
        the form `severa.identifiers` returns."""
        country = attrs["country"]
        errors: dict[str, list[str]] = {}
        try:
            attrs["business_id"] = business_id_clean(country, attrs["business_id"])
        except IdentifierError as error:
            errors["business_id"] = [error.message]
        try:
            attrs["vat_number"] = vat_number_clean(country, attrs.get("vat_number", ""))
        except IdentifierError as error:
            errors["vat_number"] = [error.message]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# Quotes.


class QuoteRequestSerializer(_CatalogCodes, serializers.Serializer):
    """What the admin asks for; an omitted field keeps its planned value (today's value with
    the scheduled changes applied)."""

    edition = serializers.SlugField(max_length=CODE_LENGTH, required=False)
    seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS, required=False)
    storage_gb = serializers.IntegerField(min_value=0, max_value=MAX_STORAGE_GB, required=False)
    add_ons = _codes_field("The whole set of add-ons wanted (codes).")
    interfaces = _codes_field("The whole set of interfaces wanted (codes).")
    terminate = serializers.BooleanField(
        default=False,
        help_text="End the subscription at the end of the period (no other field may be sent).",
    )

    def validate(self, attrs: dict) -> dict:
        changed = {"edition", "seats", "storage_gb", "add_ons", "interfaces"} & set(attrs)
        if attrs.get("terminate") and changed:
            raise serializers.ValidationError(
                {name: ["Not allowed together with terminate."] for name in sorted(changed)}
            )
        return attrs
