"""The operators' e-invoice page (/operator/einvoices/): every queued Finvoice and Peppol
document with its status, attempts and last error, filtered by status; a failed one can be
sent again (the same stored document)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from billing.einvoice.delivery import EInvoiceRetryError, einvoice_delivery_retry
from billing.models import EInvoiceDelivery, EInvoiceDeliveryStatus
from billing.operator_views import operator_view
from billing.outbox import MAX_ATTEMPTS

DELIVERIES_PER_PAGE = 100


@require_safe
@operator_view
def operator_einvoices_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in EInvoiceDeliveryStatus.values:
        status = ""
    deliveries = (
        EInvoiceDelivery.objects.select_related("tenant", "invoice")
        .defer("document", "invoice__pdf", "invoice__seller_snapshot", "invoice__buyer_snapshot")
        .order_by("-created_at", "-id")
    )
    if status:
        deliveries = deliveries.filter(status=status)
    counts = dict(
        EInvoiceDelivery.objects.order_by().values_list("status").annotate(count=Count("id"))
    )
    return render(
        request,
        "operator/einvoices.html",
        {
            "page": Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": [
                (value, label, counts.get(value, 0))
                for value, label in EInvoiceDeliveryStatus.choices
            ],
            "total": sum(counts.values()),
            "max_attempts": MAX_ATTEMPTS,
        },
    )


@require_POST
@operator_view
def operator_einvoice_retry_view(request: HttpRequest, einvoicedelivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(EInvoiceDelivery.objects.defer("document"), pk=einvoicedelivery_id)
    try:
        einvoice_delivery_retry(delivery=delivery, by=request.user)
    except EInvoiceRetryError:
        messages.error(request, _("Only a failed e-invoice can be sent again."))
    else:
        messages.success(request, _("The e-invoice is queued to be sent again."))
    status = request.POST.get("status", "")
    url = reverse("operator_einvoices")
    return redirect(f"{url}?status={status}" if status in EInvoiceDeliveryStatus.values else url)
