"""Billing details and billing contacts in the API. Types and lengths only: every rule is in
``billing.details`` and ``billing.contacts``."""

from rest_framework import serializers

from billing.details import MAX_LENGTHS


def _text(name: str, help_text: str, *, required: bool = True) -> serializers.CharField:
    extra = {} if required else {"required": False, "default": ""}
    return serializers.CharField(
        max_length=MAX_LENGTHS[name], allow_blank=True, help_text=help_text, **extra
    )


class BillingDetailsSerializer(serializers.Serializer):
    """The whole billing details: PUT replaces them (optional fields left out become empty)."""

    street_address = _text("street_address", "Street address of the invoice address.")
    postal_code = _text("postal_code", "Postal code; checked in FI, SE, NO and DK.")
    city = _text("city", "City.")
    country = _text("country", "Country of the invoice address: ISO 3166-1 alpha-2 code.")
    business_id = _text(
        "business_id",
        "Business id, checked for the tenant's country: FI Y-tunnus (1572860-0), SE "
        "organisationsnummer, NO organisasjonsnummer, DK CVR.",
    )
    vat_number = _text(
        "vat_number",
        "VAT number of the tenant's country, stored compact with its prefix (FI15728600).",
        required=False,
    )
    einvoice_address = _text(
        "einvoice_address",
        "Finnish companies: eInvoice address, an OVT code (003715728600) or an IBAN.",
        required=False,
    )
    einvoice_operator = _text(
        "einvoice_operator",
        "Finnish companies: the eInvoice operator (intermediator) id, a bank's BIC or an "
        "operator code; one of the known Finnish operators.",
        required=False,
    )
    peppol_id = _text(
        "peppol_id",
        "Peppol participant id <scheme>:<identifier>; schemes 0007, 0037, 0088, 0184, 0192, 0216.",
        required=False,
    )
    bank_account = _text(
        "bank_account",
        "The company's own bank account as an IBAN (checked; stored compact). Kept with its "
        "details; invoices are paid to the seller's account.",
        required=False,
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null until the details are first saved."
    )


class SellerChangeReviewSerializer(serializers.Serializer):
    review_pending = serializers.BooleanField(
        help_text="True until an admin dismisses the prompt shown after a seller change."
    )
    to_seller = serializers.CharField(allow_null=True, help_text="The new seller's name.")
    switched_on = serializers.DateField(
        allow_null=True, help_text="The day the change took effect."
    )


class BillingContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(
        choices=["user", "external"],
        read_only=True,
        help_text="user: a user of the tenant, at the user's current e-mail address.",
    )
    user_id = serializers.IntegerField(read_only=True, allow_null=True)
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(source="address", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class BillingContactCreateSerializer(serializers.Serializer):
    """Either ``user_id`` (an active user of the tenant) or ``email`` and ``name``."""

    user_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
