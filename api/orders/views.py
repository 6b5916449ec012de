"""Order confirmations (order history) under /api/v1/tenants/{tenant_id}/order-confirmations:
for the tenant's admins and billing users, its partners and operators, like the pages."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.tenancy import BILLING_ROLES, TenantScopedAPIMixin
from api.orders.serializers import OrderConfirmationListSerializer, OrderConfirmationSerializer
from api.renderers import ErrorsAsJSONMixin, PDFRenderer
from api.schema import TENANT_ERRORS, TENANT_PARAMETER
from subscriptions.delivery import order_confirmation_pdf_bytes
from subscriptions.documents import order_confirmation_filename
from subscriptions.models import OrderConfirmation, OrderLine

# The list and the JSON order never need the stored PDF (a few hundred kB each).
DEFERRED = ("pdf",)


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: OrderConfirmationListSerializer(many=True), **TENANT_ERRORS},
        summary="Order history: the tenant's order confirmations, newest first",
    )
)
class OrderConfirmationListView(TenantScopedAPIMixin, generics.ListAPIView):
    serializer_class = OrderConfirmationListSerializer
    tenant_roles = BILLING_ROLES

    def get_queryset(self):
        return OrderConfirmation.objects.defer(
            *DEFERRED, "seller_snapshot", "buyer_snapshot", "summary"
        ).order_by("-confirmed_at", "-pk")


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: OrderConfirmationSerializer, **TENANT_ERRORS},
        summary="One order confirmation: parties, lines, totals, VAT and what comes later",
    )
)
class OrderConfirmationDetailView(TenantScopedAPIMixin, generics.RetrieveAPIView):
    serializer_class = OrderConfirmationSerializer
    tenant_roles = BILLING_ROLES
    lookup_url_kwarg = "orderconfirmation_id"

    def get_queryset(self):
        return OrderConfirmation.objects.defer(*DEFERRED).prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("position"))
        )


@extend_schema(parameters=[TENANT_PARAMETER])
class OrderConfirmationPDFView(ErrorsAsJSONMixin, TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The order confirmation as a PDF (A4)."
            ),
            **TENANT_ERRORS,
        },
        summary="The order confirmation's PDF, as stored (rendered first if not yet)",
    )
    def get(self, request, tenant_id, orderconfirmation_id):
        order = get_object_or_404(
            OrderConfirmation.objects.select_related("tenant", "confirmed_by"),
            pk=orderconfirmation_id,
        )
        response = HttpResponse(
            order_confirmation_pdf_bytes(order=order), content_type="application/pdf"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{order_confirmation_filename(order=order)}"'
        )
        return response
