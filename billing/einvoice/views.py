"""The tenant's e-invoice downloads: any issued invoice or credit note as Finvoice 3.0 or
Peppol BIS Billing 3.0 XML, whatever the buyer's delivery details (useful for importing into
accounting); which one is delivered is decided by the buyer's details (``einvoice_format``)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from accounts.tenancy import BILLING_ROLES, tenant_view
from billing.einvoice.finvoice import invoice_finvoice
from billing.einvoice.ubl import invoice_ubl
from billing.models import Invoice, InvoiceKind

CONTENT_TYPE = "application/xml"


def einvoice_filename(invoice: Invoice, kind: str) -> str:
    """E.g. invoice-INV-12-finvoice.xml, credit-note-INV-13-ubl.xml."""
    document = "credit-note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    return f"{document}-{invoice.display_number}-{kind}.xml"


def einvoice_response(invoice: Invoice, kind: str) -> HttpResponse:
    content = invoice_finvoice(invoice) if kind == "finvoice" else invoice_ubl(invoice)
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{einvoice_filename(invoice, kind)}"'
    return response


def einvoice_invoice_get(invoice_id: int) -> Invoice:
    """The invoice of the current tenant scope, with what its documents read."""
    return get_object_or_404(
        Invoice.objects.defer("pdf")
        .select_related("credited_invoice")
        .defer("credited_invoice__pdf")
        .prefetch_related("lines"),
        pk=invoice_id,
    )


@require_safe
@tenant_view(*BILLING_ROLES)
def invoice_finvoice_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return einvoice_response(einvoice_invoice_get(invoice_id), "finvoice")


@require_safe
@tenant_view(*BILLING_ROLES)
def invoice_ubl_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return einvoice_response(einvoice_invoice_get(invoice_id), "ubl")
