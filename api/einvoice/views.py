"""E-invoice downloads under /api/v1/tenants/{tenant_id}/invoices/{invoice_id}/: ``finvoice``
(Finvoice 3.0, ISO-8859-15) and ``ubl`` (Peppol BIS Billing 3.0, UTF-8), for any issued
invoice or credit note, for the tenant's admins and billing users, its partners and
operators. Errors are JSON like everywhere else in the API."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.tenancy import BILLING_ROLES, TenantScopedAPIMixin
from api.renderers import ErrorsAsJSONMixin, XMLRenderer
from api.schema import INVOICE_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER
from billing.einvoice.views import einvoice_invoice_get, einvoice_response


class _EinvoiceView(ErrorsAsJSONMixin, TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES
    renderer_classes = [JSONRenderer, XMLRenderer]
    kind = ""

    def get(self, request, tenant_id, invoice_id):
        return einvoice_response(einvoice_invoice_get(invoice_id), self.kind)


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoiceFinvoiceView(_EinvoiceView):
    kind = "finvoice"

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The invoice or credit note as a Finvoice 3.0 message "
                "(ISO-8859-15), with routing details when the buyer has an eInvoice address "
                "and operator.",
            ),
            **TENANT_ERRORS,
        },
        summary="The invoice as Finvoice 3.0 XML",
    )
    def get(self, request, tenant_id, invoice_id):
        return super().get(request, tenant_id, invoice_id)


@extend_schema(parameters=[TENANT_PARAMETER, INVOICE_PARAMETER])
class InvoiceUBLView(_EinvoiceView):
    kind = "ubl"

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The invoice (UBL Invoice) or credit note (UBL CreditNote) as "
                "Peppol BIS Billing 3.0 XML (UTF-8).",
            ),
            **TENANT_ERRORS,
        },
        summary="The invoice as Peppol BIS Billing 3.0 (UBL) XML",
    )
    def get(self, request, tenant_id, invoice_id):
        return super().get(request, tenant_id, invoice_id)
