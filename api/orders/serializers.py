"""Order confirmations in the API: the list row, the whole order, and its parsed summary."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import DocumentLineSerializer
from subscriptions.documents import order_summary_read, party_read
from subscriptions.models import OrderConfirmation, OrderLine


class PartySerializer(serializers.Serializer):
    """Seller or buyer as frozen on the order; an address part it did not have is ""."""

    name = serializers.CharField()
    business_id = serializers.CharField()
    vat_number = serializers.CharField()
    street_address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166 code")


class SellerOrderPartySerializer(PartySerializer):
    """The seller as frozen on the order, with who to ask."""

    invoicing_email = serializers.CharField(
        help_text="Where questions about invoices go (the seller's invoicing team); may be empty."
    )
    support_email = serializers.CharField(help_text="The seller's support address; may be empty.")


class OrderLineSerializer(DocumentLineSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "position",
            "item_type",
            "item_code",
            "description",
            "kind",
            "params",
            "unit_price",
            "quantity",
            "period_start",
            "period_end",
            "net",
            "vat_rate",
            "vat",
            "total",
        ]


class ScheduledSummarySerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    effective_date = serializers.DateField(allow_null=True)


class NextPeriodLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.IntegerField(allow_null=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    net = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class NextPeriodSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    lines = NextPeriodLineSerializer(many=True)
    net = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    vat = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class OrderSummarySerializer(serializers.Serializer):
    scheduled = ScheduledSummarySerializer(
        many=True, help_text="Decreases and terminations taking effect later."
    )
    removed_add_ons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Add-ons removed because the new edition does not allow them.",
    )
    next_period = NextPeriodSerializer(
        allow_null=True, help_text="The next full period as agreed, with its price."
    )
    withdrawn = ScheduledSummarySerializer(
        many=True,
        help_text="The termination this order withdraws (cancelled before it took effect).",
    )


class OrderConfirmationListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = OrderConfirmation
        fields = [
            "id",
            "number",
            "kind",
            "made_on",
            "confirmed_at",
            "currency",
            "net",
            "vat",
            "total",
            "emailed_at",
        ]


class OrderConfirmationSerializer(OrderConfirmationListSerializer):
    seller = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, read_only=True)
    summary = serializers.SerializerMethodField()

    class Meta(OrderConfirmationListSerializer.Meta):
        fields = [
            *OrderConfirmationListSerializer.Meta.fields,
            "seller",
            "buyer",
            "vat_category",
            "vat_rate",
            "vat_note",
            "vat_note_kind",
            "terms_version",
            "lines",
            "summary",
        ]

    @extend_schema_field(SellerOrderPartySerializer)
    def get_seller(self, order: OrderConfirmation) -> dict:
        return SellerOrderPartySerializer(
            party_read(snapshot=order.seller_snapshot, language="en")
        ).data

    @extend_schema_field(PartySerializer)
    def get_buyer(self, order: OrderConfirmation) -> dict:
        return PartySerializer(party_read(snapshot=order.buyer_snapshot, language="en")).data

    @extend_schema_field(OrderSummarySerializer)
    def get_summary(self, order: OrderConfirmation) -> dict:
        return OrderSummarySerializer(order_summary_read(summary=order.summary)).data
