"""Invoices, credit notes and payments, billing runs and seller migrations in the API."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import (
    MONEY,
    DocumentLineSerializer,
    SellerRefSerializer,
    seller_code,
    seller_of_code,
)
from billing.documents import invoice_bank_account
from billing.invoicing import vat_breakdown
from billing.models import (
    BillingRun,
    BillingRunKind,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Payment,
    SellerEntity,
    SellerMigration,
    SellerMigrationItemStatus,
)


class InvoiceRefSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number", read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "invoice_date", "total"]


# Invoices.


class InvoiceQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=InvoiceState.choices, required=False)
    kind = serializers.ChoiceField(choices=InvoiceKind.choices, required=False)


class InvoiceListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number", read_only=True)
    seller = SellerRefSerializer(read_only=True)
    credited_invoice = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="On a credit note: the invoice it credits."
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "seller",
            "invoice_date",
            "due_date",
            "currency",
            "net",
            "vat",
            "rounding",
            "total",
            "credited_amount",
            "credited_invoice",
        ]


class DomesticDetailSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="E.g. Account number, Bankgiro, Plusgiro.")
    value = serializers.CharField(help_text="As printed, e.g. 8601.11.17947.")


class SellerPartySerializer(serializers.Serializer):
    """The seller as printed on the invoice, with the bank account to pay to."""

    code = serializers.CharField(help_text="The seller's business id.")
    name = serializers.CharField()
    business_id = serializers.CharField()
    vat_number = serializers.CharField()
    street_address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166 code")
    iban = serializers.CharField()
    bic = serializers.CharField()
    invoicing_email = serializers.CharField(
        help_text="Where questions about the invoice go (the seller's invoicing team); may be "
        "empty."
    )
    support_email = serializers.CharField(help_text="The seller's support address; may be empty.")
    bank_name = serializers.CharField(help_text="The bank of the account; may be empty.")
    domestic_payment_details = DomesticDetailSerializer(
        many=True,
        help_text="What payers in the buyer's country use beside IBAN and BIC: the account "
        "number for a Norwegian buyer, bankgiro and plusgiro for a Swedish one; else empty.",
    )


class BuyerPartySerializer(serializers.Serializer):
    name = serializers.CharField()
    business_id = serializers.CharField()
    vat_number = serializers.CharField()
    street_address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166 code")


def _party(snapshot: dict, serializer: type[serializers.Serializer]) -> dict:
    return {name: str(snapshot.get(name) or "") for name in serializer().fields}


class InvoiceLineSerializer(DocumentLineSerializer):
    credited_line = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="On a credit note: the invoice line it credits."
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "order_number",
            "description",
            "kind",
            "params",
            "period_start",
            "period_end",
            "quantity",
            "unit_price",
            "vat_category",
            "vat_rate",
            "net",
            "credited_line",
        ]


class VatGroupSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="UNCL5305 code: S, AE, O, ...")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    taxable = serializers.DecimalField(**MONEY)
    vat = serializers.DecimalField(**MONEY)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "amount", "paid_on", "reference", "registered_at"]


class InvoiceSerializer(InvoiceListSerializer):
    seller = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True, read_only=True)
    vat_breakdown = serializers.SerializerMethodField()
    payments = PaymentSerializer(many=True, read_only=True)
    paid_amount = serializers.SerializerMethodField()
    outstanding = serializers.SerializerMethodField()
    credited_invoice = InvoiceRefSerializer(
        read_only=True, allow_null=True, help_text="On a credit note: the invoice it credits."
    )
    credit_notes = InvoiceRefSerializer(many=True, read_only=True)
    reissue = InvoiceRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="On a credit note of a credit and reissue: the invoice issued in its place.",
    )
    reissue_credit_note = InvoiceRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="On a reissued invoice: the credit note of the invoice it replaces.",
    )

    class Meta(InvoiceListSerializer.Meta):
        fields = [
            *InvoiceListSerializer.Meta.fields,
            "series",
            "reference",
            "buyer",
            "vat_note",
            "vat_note_kind",
            "lines",
            "vat_breakdown",
            "payments",
            "paid_amount",
            "outstanding",
            "credit_notes",
            "reissue",
            "reissue_credit_note",
            "issued_at",
            "sent_at",
            "paid_at",
        ]

    @extend_schema_field(SellerPartySerializer)
    def get_seller(self, invoice: Invoice) -> dict:
        bank = invoice_bank_account(invoice=invoice, language="en")
        return {
            **_party(invoice.seller_snapshot, SellerPartySerializer),
            "code": seller_code(invoice.seller),
            "bank_name": bank.bank_name,
            "domestic_payment_details": DomesticDetailSerializer(bank.domestic, many=True).data,
        }

    @extend_schema_field(BuyerPartySerializer)
    def get_buyer(self, invoice: Invoice) -> dict:
        return _party(invoice.buyer_snapshot, BuyerPartySerializer)

    @extend_schema_field(VatGroupSerializer(many=True))
    def get_vat_breakdown(self, invoice: Invoice) -> list[dict]:
        groups = vat_breakdown(lines=invoice.lines.all(), currency=invoice.currency)
        return VatGroupSerializer(
            [
                {"category": g.category, "rate": g.rate, "taxable": g.taxable, "vat": g.vat}
                for g in groups
            ],
            many=True,
        ).data

    def _paid(self, invoice: Invoice) -> Decimal:
        return sum((payment.amount for payment in invoice.payments.all()), Decimal(0))

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_paid_amount(self, invoice: Invoice) -> str:
        return f"{self._paid(invoice):.2f}"

    @extend_schema_field(
        serializers.DecimalField(
            **MONEY,
            allow_null=True,
            help_text="What is left to pay after payments and credit notes (null on a credit "
            "note).",
        )
    )
    def get_outstanding(self, invoice: Invoice) -> str | None:
        if invoice.kind != InvoiceKind.INVOICE:
            return None
        return f"{invoice.total - invoice.credited_amount - self._paid(invoice):.2f}"


class PaymentRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class PaymentResultSerializer(PaymentSerializer):
    invoice_status = serializers.CharField(source="invoice.status", read_only=True)

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "invoice_status"]


class CreditNoteRequestSerializer(serializers.Serializer):
    lines = serializers.DictField(
        child=serializers.DecimalField(**MONEY, min_value=Decimal("0.01")),
        required=False,
        allow_null=True,
        allow_empty=False,
        help_text="{invoice line id: net amount to credit}; leave out (or null) to credit "
        "everything left on the invoice.",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_lines(self, value: dict | None) -> dict[int, Decimal] | None:
        if value is None:
            return None
        lines = {}
        for key, amount in value.items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit()) or len(key) > 18:
                raise serializers.ValidationError(f"{key!r} is not an invoice line id.")
            lines[int(key)] = amount
        return lines


# Billing runs and seller migrations (operators).


class ReissueRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReissueResultSerializer(serializers.Serializer):
    credit_note = InvoiceSerializer(help_text="The full credit note of the invoice.")
    invoice = InvoiceSerializer(help_text="The new invoice of the same lines.")


class BillingRunQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BillingRunKind.choices, required=False)


class BillingRunErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    tenant_id = serializers.IntegerField(required=False)
    subscription_id = serializers.IntegerField(required=False)


class BillingRunSerializer(serializers.ModelSerializer):
    counts = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="What the run did, by name."
    )
    errors = BillingRunErrorSerializer(
        many=True, read_only=True, help_text="What the latest attempt could not do."
    )

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "kind",
            "run_date",
            "status",
            "started_at",
            "finished_at",
            "attempts",
            "counts",
            "errors",
        ]


class MigrationItemCountsSerializer(serializers.Serializer):
    scheduled = serializers.IntegerField()
    notified = serializers.IntegerField()
    switched = serializers.IntegerField()
    skipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class SellerMigrationSerializer(serializers.ModelSerializer):
    from_seller = SellerRefSerializer(read_only=True)
    to_seller = SellerRefSerializer(read_only=True)
    items = serializers.SerializerMethodField(help_text="Subscriptions of the cohort by status.")

    class Meta:
        model = SellerMigration
        fields = [
            "id",
            "from_seller",
            "to_seller",
            "cohort_start",
            "notice_days",
            "status",
            "created_at",
            "notified_at",
            "done_at",
            "cancelled_at",
            "items",
        ]

    @extend_schema_field(MigrationItemCountsSerializer)
    def get_items(self, migration: SellerMigration) -> dict[str, int]:
        return {
            status: getattr(migration, f"{status}_count", 0)
            for status in SellerMigrationItemStatus.values
        }


class SellerMigrationRequestSerializer(serializers.Serializer):
    from_seller = serializers.CharField(max_length=40, help_text="A seller code from GET /sellers.")
    to_seller = serializers.CharField(max_length=40, help_text="A seller code from GET /sellers.")
    cohort_start = serializers.DateField(
        help_text="The 1st of a month: subscriptions whose next period starts that day."
    )
    notice_days = serializers.IntegerField(min_value=0, max_value=365, default=30)

    def validate_from_seller(self, value: str) -> SellerEntity:
        return seller_of_code(value)

    def validate_to_seller(self, value: str) -> SellerEntity:
        return seller_of_code(value)
