"""A partner's consolidated invoices under /api/v1/partners/{partner_id}/invoices (DESIGN
§3.8): the invoices the partner gets for the customers whose subscriptions it pays, each
with its lines grouped by customer. The partner's active users and operators read them;
anybody else gets 404 (`accounts.tenancy.partner_access`). Read-only: payments and credit
notes are the operators' (the operator invoice pages)."""

from __future__ import annotations

from contextlib import ExitStack

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from api.invoices.serializers import InvoiceListSerializer, InvoiceQuerySerializer
from api.partners.invoice_serializers import PartnerInvoiceSerializer
from api.partners.views import PartnerAPIMixin
from api.schema import INVOICE_PARAMETER, PARTNER_PARAMETER, errors
from billing.models import Invoice, InvoiceLine, Payment
from billing.scoping import partner_scope

PARTNER_ERRORS = errors(401, 403, 404)


class PartnerScopedAPIMixin(PartnerAPIMixin):
    """Resolve the partner with `partner_access` (404 when the user does not act for it)
    and run the handler inside the partner's scope."""

    def dispatch(self, request, *args, **kwargs):
        self._partner_scope = ExitStack()
        with self._partner_scope:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._partner_scope.enter_context(partner_scope(self.partner))


@extend_schema(parameters=[PARTNER_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        parameters=[InvoiceQuerySerializer],
        responses={200: InvoiceListSerializer(many=True), **errors(400, 401, 403, 404)},
        summary="The partner's consolidated invoices and credit notes, newest first",
    )
)
class PartnerInvoiceListView(PartnerScopedAPIMixin, generics.ListAPIView):
    serializer_class = InvoiceListSerializer

    def get_queryset(self):
        query = InvoiceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        invoices = (
            Invoice.objects.filter(partner=self.partner)
            .defer("pdf", "seller_snapshot", "buyer_snapshot")
            .select_related("seller")
            .order_by("-invoice_date", "-pk")
        )
        for name in ("status", "kind"):
            if query.validated_data.get(name):
                invoices = invoices.filter(**{name: query.validated_data[name]})
        return invoices


@extend_schema(parameters=[PARTNER_PARAMETER, INVOICE_PARAMETER])
class PartnerInvoiceDetailView(PartnerScopedAPIMixin, APIView):
    @extend_schema(
        responses={200: PartnerInvoiceSerializer, **PARTNER_ERRORS},
        summary="One consolidated invoice or credit note: the invoice with its lines grouped "
        "by customer (`customers`: each customer's lines and net subtotal)",
    )
    def get(self, request, partner_id, invoice_id):
        invoice = (
            Invoice.objects.filter(partner=self.partner, pk=invoice_id)
            .defer("pdf")
            .select_related("seller", "credited_invoice")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
                Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "pk")),
                Prefetch("credit_notes", queryset=Invoice.objects.defer("pdf").order_by("pk")),
            )
            .first()
        )
        if invoice is None:
            raise Http404("No such invoice.")
        return Response(PartnerInvoiceSerializer(invoice).data)
