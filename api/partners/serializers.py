"""Bodies of the partner API (api/partners/views.py). A partner's consolidated invoice is
the invoice as for a tenant, with its lines grouped by customer (DESIGN §3.8)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import MONEY
from api.invoices.serializers import InvoiceLineSerializer, InvoiceSerializer
from billing.documents import customer_groups
from billing.models import Invoice
from partners.models import (
    ActivationScenario,
    ActivationStatus,
    InvoiceRecipient,
)
from partners.selectors import invited_customer_edition, partner_terms_current


class PartnerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2)
    business_id = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    user_name = serializers.CharField(max_length=200, help_text="The first user's full name.")
    user_email = serializers.EmailField(help_text="Gets an e-mail with a link to set a password.")
    support_email = serializers.EmailField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the partner's customers ask for support (their Partners page says so).",
    )


class PartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()
    business_id = serializers.CharField()
    support_email = serializers.CharField()


class PartnerCreatedSerializer(serializers.Serializer):
    partner = PartnerSerializer()
    user_id = serializers.IntegerField()
    user_email = serializers.EmailField()


class PartnerCustomerSerializer(serializers.Serializer):
    tenant_id = serializers.IntegerField(source="tenant.pk")
    name = serializers.CharField(source="tenant.name")
    collaboration_status = serializers.CharField(source="collaboration.status")
    engagement = serializers.CharField(source="collaboration.engagement")
    edition = serializers.CharField(source="subscription.edition.code", allow_null=True)
    seats = serializers.IntegerField(source="subscription.seats", allow_null=True)
    period_start = serializers.DateField(source="subscription.period_start", allow_null=True)
    period_end = serializers.DateField(source="subscription.period_end", allow_null=True)
    agreement_end = serializers.DateField(source="subscription.agreement_end", allow_null=True)
    invoice_recipient = serializers.SerializerMethodField()

    def get_invoice_recipient(self, customer) -> str | None:
        if customer.subscription is None:
            return None
        if customer.subscription.invoice_partner_id is not None:
            return InvoiceRecipient.PARTNER
        return InvoiceRecipient.CUSTOMER


class NewCustomerSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2)
    business_id = serializers.CharField(max_length=40, allow_blank=True, default="")
    vat_number = serializers.CharField(max_length=40, allow_blank=True, default="")
    admin_name = serializers.CharField(max_length=200)
    admin_email = serializers.EmailField()


class ExistingCompanySerializer(serializers.Serializer):
    country = serializers.CharField(max_length=2, help_text="Two-letter country code, e.g. FI.")
    business_id = serializers.CharField(
        max_length=40, help_text="The company's business id, e.g. 1572860-0 (any usual format)."
    )
    name = serializers.CharField(
        max_length=200, help_text="The company's name (case and spacing aside, exactly)."
    )


class ActivationRequestSerializer(serializers.Serializer):
    company = ExistingCompanySerializer(
        required=False,
        help_text="An existing company by its business id and name (both must match); "
        "leave out for a new `customer`.",
    )
    customer = NewCustomerSerializer(required=False)
    engagement = serializers.IntegerField(help_text="The id of one of the partner's engagements.")
    edition = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    seats = serializers.IntegerField(min_value=1, required=False)
    invoice_recipient = serializers.ChoiceField(
        choices=InvoiceRecipient.choices, default=InvoiceRecipient.CUSTOMER
    )
    agreement_months = serializers.ChoiceField(choices=[3, 12], required=False)

    def validate(self, data):
        if ("company" in data) == ("customer" in data):
            raise serializers.ValidationError("Send either company or customer.")
        return data


class ActivationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant_id = serializers.IntegerField()
    scenario = serializers.ChoiceField(
        choices=ActivationScenario.choices,
        allow_null=True,
        help_text="Null while an existing company has not approved: whether it has a "
        "subscription is not the partner's to know before then.",
    )
    status = serializers.ChoiceField(choices=ActivationStatus.choices)
    engagement = serializers.CharField(source="engagement.name")
    edition = serializers.CharField()
    seats = serializers.IntegerField(allow_null=True)
    invoice_recipient = serializers.ChoiceField(choices=InvoiceRecipient.choices)
    agreement_months = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    def to_representation(self, activation):
        data = super().to_representation(activation)
        if (
            activation.status != ActivationStatus.APPROVED
            and activation.scenario != ActivationScenario.NEW_CUSTOMER
        ):
            data["scenario"] = None
        return data


class EngagementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    customer_id = serializers.IntegerField(read_only=True, allow_null=True)


class PartnerInvitationRequestSerializer(serializers.Serializer):
    tenant_id = serializers.IntegerField(help_text="The inviting tenant (its admin calls).")
    email = serializers.EmailField(
        required=False, help_text="A user of the partner; every partner user when left out."
    )


class PartnerInvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant_id = serializers.IntegerField()
    tenant_name = serializers.CharField(source="tenant.name")
    partner_id = serializers.IntegerField()
    email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    customer_edition = serializers.SerializerMethodField(
        help_text="The inviting customer's current edition (null without a subscription)."
    )
    partner_terms_version = serializers.SerializerMethodField(
        help_text="The partner terms to accept with the invitation (null when none are published)."
    )

    def get_customer_edition(self, invitation) -> str | None:
        return invited_customer_edition(invitation=invitation)

    def get_partner_terms_version(self, invitation) -> str | None:
        terms = partner_terms_current()
        return terms.version if terms is not None else None


class InvitationAcceptSerializer(serializers.Serializer):
    engagement = serializers.IntegerField(required=False)
    engagement_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    details_confirmed = serializers.BooleanField(
        help_text="True: the partner's business id and the invited e-mail address are right."
    )
    terms_version = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The partner terms version accepted (partner_terms_version of the invitation).",
    )

    def validate(self, data):
        if not data.get("engagement") and not data.get("engagement_name"):
            raise serializers.ValidationError("Choose an engagement or name a new one.")
        return data


class CollaborationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant_id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    engagement = serializers.CharField()
    status = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)


# A partner's consolidated invoices.


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
        groups = customer_groups(invoice=invoice, lines=tuple(invoice.lines.all()))
        return [
            {
                "tenant_id": group.lines[0].tenant_id,
                "name": group.customer,
                "subtotal": f"{Decimal(group.subtotal):.2f}",
                "lines": InvoiceLineSerializer(group.lines, many=True).data,
            }
            for group in groups
        ]
