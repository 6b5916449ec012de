"""Invoices under /api/v1/tenants/{tenant_id}/invoices (the tenant's admins and billing
users, its partners and operators read them; operators register payments and issue credit
notes), and the operators' billing runs and seller migrations.

Status codes beside the common ones (api/schema.py): a payment or credit note the invoicing
rules refuse (more than is outstanding, a line credited beyond what is left of it, a credit
note paid or credited) is a 422 with code ``payment_refused`` or ``credit_note_refused``; a
reissue of a credit note or of an invoice credited or reissued already is a 422 with code
``reissue_refused``; a
seller migration the rules refuse (a currency the new seller has no bank account in, too
late for the notice, nobody in the cohort, scheduled already) is a 422 with code
``migration_refused``.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy import BILLING_ROLES, OPERATOR, TenantScopedAPIMixin
from api.idempotency import idempotent
from api.invoices import serializers
from api.permissions import IsOperator
from api.renderers import ErrorsAsJSONMixin, PDFRenderer
from api.schema import (
    IDEMPOTENCY_PARAMETER,
    INVOICE_PARAMETER,
    SIGNED_IN_ERRORS,
    TENANT_ERRORS,
    TENANT_PARAMETER,
    errors,
)
from billing.documents import invoice_filename, invoice_pdf_bytes
from billing.invoicing import payment_register
from billing.issuing import credit_note_issue, invoice_reissue
from billing.migration import (
    seller_migration_schedule,
    seller_migrations_with_counts,
)
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceLine,
    Payment,
    SellerMigration,
)

OPERATORS = frozenset({OPERATOR})
# The list and the JSON invoice never need the stored PDF.
DEFERRED = ("pdf",)


def invoices_filtered(invoices: QuerySet[Invoice], *, query_params: QueryDict) -> QuerySet[Invoice]:
    """An invoice list's ``?status=`` and ``?kind=`` (a value not of their choices is a 400)."""
    query = serializers.InvoiceQuerySerializer(data=query_params)
    query.is_valid(raise_exception=True)
    for name in ("status", "kind"):
        if query.validated_data.get(name):
            invoices = invoices.filter(**{name: query.validated_data[name]})
    return invoices


def _invoice_data(invoice_id: int) -> dict:
    invoice = get_object_or_404(
        Invoice.objects.defer(*DEFERRED)
        .select_related("seller", "credited_invoice", "reissue", "reissue_credit_note")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
            Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "pk")),
            Prefetch("credit_notes", queryset=Invoice.objects.defer(*DEFERRED).order_by("pk")),
        ),
        pk=invoice_id,
    )
    return serializers.InvoiceSerializer(invoice).data


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        parameters=[serializers.InvoiceQuerySerializer],
        responses={
            200: serializers.InvoiceListSerializer(many=True),
            **errors(400, 401, 403, 404),
        },
        summary="The tenant's invoices and credit notes, newest first",
    )
)
class InvoiceListView(TenantScopedAPIMixin, generics.ListAPIView):
    serializer_class = serializers.InvoiceListSerializer
    tenant_roles = BILLING_ROLES

    def get_queryset(self):
        return invoices_filtered(
            Invoice.objects.defer(*DEFERRED, "seller_snapshot", "buyer_snapshot")
            .select_related("seller")
            .order_by("-invoice_date", "-pk"),
            query_params=self.request.query_params,
        )


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoiceDetailView(TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES

    @extend_schema(
        responses={200: serializers.InvoiceSerializer, **TENANT_ERRORS},
        summary="One invoice or credit note: parties, lines with their periods, VAT "
        "breakdown, rounding, totals, payments and credit notes",
    )
    def get(self, request, tenant_id, invoice_id):
        return Response(_invoice_data(invoice_id))


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoicePDFView(ErrorsAsJSONMixin, TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The invoice or credit note as a PDF (A4)."
            ),
            **TENANT_ERRORS,
        },
        summary="The invoice's PDF, as stored (rendered first if not yet)",
    )
    def get(self, request, tenant_id, invoice_id):
        invoice = get_object_or_404(Invoice.objects.select_related("tenant"), pk=invoice_id)
        response = HttpResponse(invoice_pdf_bytes(invoice=invoice), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{invoice_filename(invoice=invoice)}"'
        )
        return response


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoicePaymentView(TenantScopedAPIMixin, APIView):
    tenant_roles = OPERATORS

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.PaymentRequestSerializer,
        responses={
            201: serializers.PaymentResultSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422),
        },
        summary="Register a payment on an invoice (operators only)",
        description="The invoice is paid once its payments cover what is left after credit "
        "notes. More than is outstanding is a 422 `payment_refused`.",
    )
    @idempotent()
    def post(self, request, tenant_id, invoice_id):
        invoice = get_object_or_404(Invoice.objects.defer(*DEFERRED), pk=invoice_id)
        form = serializers.PaymentRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        payment = payment_register(
            invoice=invoice,
            amount=form.validated_data["amount"],
            paid_on=form.validated_data["paid_on"],
            reference=form.validated_data["reference"],
            actor=request.user,
        )
        payment = Payment.objects.select_related("invoice").get(pk=payment.pk)
        return Response(
            serializers.PaymentResultSerializer(payment).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoiceCreditNoteView(TenantScopedAPIMixin, APIView):
    tenant_roles = OPERATORS

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.CreditNoteRequestSerializer,
        responses={
            201: serializers.InvoiceSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422),
        },
        summary="Issue a credit note for the whole invoice or given lines (operators only)",
        description="Without `lines`, everything left on the invoice is credited; with "
        "`lines`, each given line by the given net amount. A line cannot be credited beyond "
        "what is left of it (422 `credit_note_refused`). Answers the credit note.",
    )
    @idempotent()
    def post(self, request, tenant_id, invoice_id):
        invoice = get_object_or_404(Invoice.objects.defer(*DEFERRED), pk=invoice_id)
        form = serializers.CreditNoteRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        note = credit_note_issue(
            invoice=invoice,
            lines=form.validated_data.get("lines"),
            actor=request.user,
            reason=form.validated_data["reason"],
        )
        return Response(_invoice_data(note.pk), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoiceReissueView(TenantScopedAPIMixin, APIView):
    tenant_roles = OPERATORS

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.ReissueRequestSerializer,
        responses={
            201: serializers.ReissueResultSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422),
        },
        summary="Credit and reissue an invoice (operators only)",
        description="Credits the whole invoice and issues a new invoice of the same lines "
        "dated today, with today's VAT, numbered next in the seller's series; the two link "
        "each other and both are delivered to the billing contacts. An invoice already "
        "credited (in part or whole) or reissued, or a credit note, is refused (422 "
        "`reissue_refused`). Answers the credit note and the new invoice.",
    )
    @idempotent()
    def post(self, request, tenant_id, invoice_id):
        invoice = get_object_or_404(Invoice.objects.defer(*DEFERRED), pk=invoice_id)
        form = serializers.ReissueRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        note, new = invoice_reissue(
            invoice=invoice, actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(
            {"credit_note": _invoice_data(note.pk), "invoice": _invoice_data(new.pk)},
            status=status.HTTP_201_CREATED,
        )


# Operators: billing runs and seller migrations.


@extend_schema_view(
    get=extend_schema(
        parameters=[serializers.BillingRunQuerySerializer],
        responses={
            200: serializers.BillingRunSerializer(many=True),
            **errors(400, 401, 403),
        },
        summary="Billing runs, newest first (operators only)",
    )
)
class BillingRunListView(generics.ListAPIView):
    permission_classes = [IsOperator]
    serializer_class = serializers.BillingRunSerializer

    def get_queryset(self):
        query = serializers.BillingRunQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        runs = BillingRun.objects.order_by("-run_date", "kind", "-pk")
        if query.validated_data.get("kind"):
            runs = runs.filter(kind=query.validated_data["kind"])
        return runs


@extend_schema_view(
    get=extend_schema(
        responses={200: serializers.SellerMigrationSerializer(many=True), **SIGNED_IN_ERRORS},
        summary="Seller migrations, latest cohort first (operators only)",
    )
)
class SellerMigrationListView(generics.ListAPIView):
    permission_classes = [IsOperator]
    serializer_class = serializers.SellerMigrationSerializer

    def get_queryset(self):
        return seller_migrations_with_counts(
            migrations=SellerMigration.objects.select_related("from_seller", "to_seller").order_by(
                "-cohort_start", "-pk"
            )
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.SellerMigrationRequestSerializer,
        responses={
            201: serializers.SellerMigrationSerializer,
            **errors(400, 401, 403, 409, 415, 422),
        },
        summary="Schedule a cohort of subscriptions to move to another seller (operators only)",
        description="Every active subscription of `from_seller` that starts a period on "
        "`cohort_start` moves to `to_seller` on that day, before the period's renewal is "
        "ordered. Billing contacts are e-mailed the notice at the latest `notice_days` "
        "before. Refused with 422 `migration_refused` when the new seller has no bank account "
        "in a currency of the cohort (the message names them), when it is too late for the "
        "notice, when no subscription starts a period that day or when the cohort is "
        "scheduled already.",
    )
    @idempotent()
    def post(self, request):
        form = serializers.SellerMigrationRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        migration = seller_migration_schedule(
            from_seller=data["from_seller"],
            to_seller=data["to_seller"],
            cohort_start=data["cohort_start"],
            notice_days=data["notice_days"],
            actor=request.user,
        )
        migration = self.get_queryset().get(pk=migration.pk)
        return Response(
            serializers.SellerMigrationSerializer(migration).data, status=status.HTTP_201_CREATED
        )
