"""The operators' e-invoice page (/operator/einvoices/): every queued Finvoice and Peppol
document with its status, attempts and last error, filtered by status; a failed one can be
sent again (the same stored document)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from billing.einvoice.delivery import EInvoiceRetryError, einvoice_delivery_retry
from billing.models import EInvoiceDelivery, EInvoiceDeliveryStatus
from billing.operator_queues import back_to_queue, queue_page
from billing.operator_views import operator_view
from severa.errors import refusal_show


@require_safe
@operator_view
def operator_einvoices_view(request: HttpRequest) -> HttpResponse:
    return queue_page(
        request,
        rows=EInvoiceDelivery.objects.select_related("tenant", "invoice").defer(
            "document", "invoice__pdf", "invoice__seller_snapshot", "invoice__buyer_snapshot"
        ),
        model=EInvoiceDelivery,
        statuses=EInvoiceDeliveryStatus,
        template="operator/einvoices.html",
    )


@require_POST
@operator_view
def operator_einvoice_retry_view(request: HttpRequest, einvoicedelivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(EInvoiceDelivery.objects.defer("document"), pk=einvoicedelivery_id)
    try:
        einvoice_delivery_retry(delivery=delivery, actor=request.user)
    except EInvoiceRetryError as error:
        refusal_show(request, error)
    else:
        messages.success(request, _("The e-invoice is queued to be sent again."))
    return back_to_queue(request, "operator_einvoices", EInvoiceDeliveryStatus)
