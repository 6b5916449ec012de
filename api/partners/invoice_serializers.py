"""A partner's consolidated invoices in the API: the invoice as for a tenant, with its lines
grouped by customer (DESIGN §3.8)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import MONEY
from api.invoices.serializers import InvoiceLineSerializer, InvoiceSerializer
from billing.documents import customer_groups
from billing.models import Invoice


class CustomerGroupSerializer(serializers.Serializer):
    tenant_id = serializers.IntegerField(help_text="The customer tenant the lines bill.")
    name = serializers.CharField()
    subtotal = serializers.DecimalField(**MONEY, help_text="Net of the customer's lines.")
    lines = InvoiceLineSerializer(many=True)


class PartnerInvoiceSerializer(InvoiceSerializer):
    customers = serializers.SerializerMethodField()

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "customers"]

    @extend_schema_field(CustomerGroupSerializer(many=True))
    def get_customers(self, invoice: Invoice) -> list[dict]:
        groups = customer_groups(invoice, tuple(invoice.lines.all()))
        return [
            {
                "tenant_id": group.lines[0].tenant_id,
                "name": group.customer,
                "subtotal": f"{Decimal(group.subtotal):.2f}",
                "lines": InvoiceLineSerializer(group.lines, many=True).data,
            }
            for group in groups
        ]
