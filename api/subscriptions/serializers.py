"""Response bodies of the subscription API: catalog, sellers, the subscription, quotes (the
Agreement page), order confirmations, scheduled changes, a provisioned tenant (the request
bodies are in api/subscriptions/request_serializers.py).

They are fed plain dicts built by `api.subscriptions.selectors` (a quote's figures are
stored JSON, the upcoming period is computed), so each one documents a shape, not a model.
"""

from __future__ import annotations

from rest_framework import serializers

from api.accounts.serializers import TenantSerializer
from api.fields import MONEY, seller_code
from api.orders.serializers import OrderLineSerializer
from billing.models import SellerEntity
from severa.money import CURRENCY_CHOICES
from subscriptions.models import (
    PERIOD_MONTHS,
    ChangeKind,
    OrderConfirmation,
    OrderKind,
    QuoteStatus,
    ScheduledChange,
    SubscriptionStatus,
)

RATE = {"max_digits": 5, "decimal_places": 2}


# The catalog.


class CatalogPriceSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    amount_per_month = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Per month; per seat per month for editions and per-seat add-ons.",
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)


class CatalogEditionSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="Editions are ordered: a higher rank is an upgrade.")
    included_storage_gb = serializers.IntegerField()
    prices = CatalogPriceSerializer(many=True)


class CatalogAddOnSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    pricing = serializers.ChoiceField(choices=["flat", "per_seat"])
    minimum_edition = serializers.SlugField(
        allow_null=True, help_text="The lowest edition the add-on may be bought with."
    )
    included_in = serializers.ListField(
        child=serializers.SlugField(), help_text="Editions that include it at no charge."
    )
    prices = CatalogPriceSerializer(many=True)


class CatalogInterfaceSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    system = serializers.CharField()
    prices = CatalogPriceSerializer(many=True)


class CatalogStorageTierSerializer(serializers.Serializer):
    code = serializers.SlugField()
    gigabytes = serializers.IntegerField()
    prices = CatalogPriceSerializer(many=True)


class CatalogSerializer(serializers.Serializer):
    priced_on = serializers.DateField(help_text="The prices listed are valid on this day.")
    editions = CatalogEditionSerializer(many=True)
    add_ons = CatalogAddOnSerializer(many=True)
    interfaces = CatalogInterfaceSerializer(many=True)
    storage_tiers = CatalogStorageTierSerializer(many=True)


# Seller entities.


class SellerBankAccountSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    iban = serializers.CharField()
    bic = serializers.CharField()
    bank_name = serializers.CharField()
    domestic_account_number = serializers.CharField(
        help_text="A Norwegian account's 11-digit domestic number (digits only); may be empty."
    )
    bankgiro = serializers.CharField(help_text="Swedish bankgiro number (digits); may be empty.")
    plusgiro = serializers.CharField(help_text="Swedish plusgiro number (digits); may be empty.")


class SellerSerializer(serializers.ModelSerializer):
    code = serializers.SerializerMethodField(help_text="The seller's business id.")
    currencies = serializers.SerializerMethodField()
    bank_accounts = SellerBankAccountSerializer(many=True)

    class Meta:
        model = SellerEntity
        fields = [
            "code",
            "name",
            "business_id",
            "vat_number",
            "country",
            "street_address",
            "postal_code",
            "city",
            "payment_terms_days",
            "terms_version",
            "invoicing_email",
            "support_email",
            "peppol_id",
            "currencies",
            "bank_accounts",
        ]

    def get_code(self, seller: SellerEntity) -> str:
        return seller_code(seller)

    def get_currencies(self, seller: SellerEntity) -> list[str]:
        return sorted(account.currency for account in seller.bank_accounts.all())


class SupportContactSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The partner's or the seller's name.")
    email = serializers.CharField(help_text="Where to ask for support; may be empty.")
    is_partner = serializers.BooleanField(help_text="True when the company's partner gives it.")


# Figures shared by the subscription, quotes and orders.


class SubscriptionShapeSerializer(serializers.Serializer):
    edition = serializers.SlugField()
    seats = serializers.IntegerField()
    storage_gb = serializers.IntegerField()
    add_ons = serializers.ListField(child=serializers.SlugField())
    interfaces = serializers.ListField(child=serializers.SlugField())


class VatDecisionSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="EN 16931 category: S, AE (reverse charge) or O.")
    rate = serializers.DecimalField(**RATE, help_text="Percent.")
    note = serializers.CharField(allow_blank=True)


class MoneyTotalsSerializer(serializers.Serializer):
    net = serializers.DecimalField(**MONEY)
    vat = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class PriceLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["increase", "scheduled"],
        help_text="increase: charged now for the rest of the current period; scheduled: a "
        "whole coming period.",
    )
    item_type = serializers.ChoiceField(
        choices=["edition", "seats", "storage", "add_on", "interface"]
    )
    code = serializers.CharField()
    description = serializers.CharField()
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Per month (per seat per month where per seat)."
    )
    quantity = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    net = serializers.DecimalField(**MONEY, help_text="The line's amount before VAT.")
    vat_rate = serializers.DecimalField(**RATE)
    vat_category = serializers.CharField()
    vat = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class PeriodPriceSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    lines = PriceLineSerializer(many=True)
    vat = VatDecisionSerializer()
    totals = MoneyTotalsSerializer(help_text="VAT is computed once on the summed net.")


class ScheduledChangeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    value = serializers.CharField(
        help_text="The new value: an edition code, a seat count, a storage size in GB, the "
        "code of the add-on or interface removed; empty for a termination.",
        allow_blank=True,
    )

    class Meta:
        model = ScheduledChange
        fields = ["id", "kind", "value", "description", "effective_date", "status", "created_at"]


# The subscription.


class SubscriptionSerializer(serializers.Serializer):
    edition = serializers.SlugField()
    edition_name = serializers.CharField()
    seats = serializers.IntegerField()
    active_users = serializers.IntegerField(help_text="Users holding a licence now.")
    storage_gb = serializers.IntegerField()
    add_ons = serializers.ListField(child=serializers.SlugField())
    interfaces = serializers.ListField(child=serializers.SlugField())
    period_months = serializers.ChoiceField(choices=PERIOD_MONTHS)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    seller = serializers.CharField(help_text="The seller entity's code (its business id).")
    agreement_end = serializers.DateField(
        allow_null=True, help_text="No decrease or termination takes effect before this day."
    )
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    version = serializers.IntegerField(help_text="Grows with every change.")
    scheduled_changes = ScheduledChangeSerializer(many=True, help_text="Pending ones only.")
    upcoming_period = PeriodPriceSerializer(
        allow_null=True,
        help_text="The next period's cost with the scheduled changes; null when the "
        "subscription ends before it (or nothing of it is priced in its currency then).",
    )


# Order confirmations (as answered by a confirmation and by provisioning).


class ConfirmedOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = OrderConfirmation
        fields = [
            "id",
            "number",
            "kind",
            "made_on",
            "confirmed_at",
            "currency",
            "vat_category",
            "vat_rate",
            "vat_note",
            "net",
            "vat",
            "total",
            "lines",
        ]


# Provisioning a tenant.


class InvitationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ProvisionedTenantSerializer(TenantSerializer):
    # The tenant as GET /tenants/{id} answers it, under the schema component name that
    # provisioning has always had (ProvisionedTenant). No docstring: it would describe it.
    pass


class TenantProvisionResponseSerializer(serializers.Serializer):
    tenant = ProvisionedTenantSerializer()
    subscription = SubscriptionSerializer()
    order = ConfirmedOrderSerializer(help_text="The activation order of the first period.")
    admin_invitation = InvitationSummarySerializer()


# Quotes.


class QuoteChangeSerializer(serializers.Serializer):
    description = serializers.CharField()
    effective_date = serializers.DateField()
    is_charged_now = serializers.BooleanField(
        help_text="True for an increase (charged now, pro rata); false for a decrease or a "
        "termination (from the start of a later period, neither charged nor credited now)."
    )


class QuoteScheduledChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    value = serializers.CharField(allow_blank=True)
    description = serializers.CharField()
    effective_date = serializers.DateField()


class QuoteSerializer(serializers.Serializer):
    """The Agreement page: what is charged now, what is scheduled, and the next full period."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=QuoteStatus.choices)
    made_on = serializers.DateField(help_text="A quote can be confirmed on this day only.")
    subscription_version = serializers.IntegerField()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    terminate = serializers.BooleanField()
    current = SubscriptionShapeSerializer(help_text="The subscription as it is today.")
    desired = SubscriptionShapeSerializer(help_text="As it will be from the next period.")
    effective_now = SubscriptionShapeSerializer(help_text="As it will be once confirmed.")
    vat = VatDecisionSerializer()
    lines = PriceLineSerializer(many=True, help_text="Charged now, for the rest of the period.")
    totals = MoneyTotalsSerializer(help_text="Of the lines charged now.")
    changes = QuoteChangeSerializer(many=True, help_text="When each change takes effect.")
    scheduled_changes = QuoteScheduledChangeSerializer(many=True)
    removed_add_ons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Names of add-ons the desired edition does not allow, removed with it.",
    )
    next_period = PeriodPriceSerializer(
        allow_null=True, help_text="The next full period's price; null for a termination."
    )
