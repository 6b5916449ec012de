"""The operators' outbox page (/operator/outbox/): every e-mail the outbox holds, with its
status, attempts and last error, filtered by status; a failed message can be sent again."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from billing.models import OutboxMessage, OutboxStatus
from billing.operator_views import operator_view
from billing.outbox import MAX_ATTEMPTS, OutboxRetryError, outbox_message_retry

MESSAGES_PER_PAGE = 100


@require_safe
@operator_view
def operator_outbox_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OutboxStatus.values:
        status = ""
    outbox = (
        OutboxMessage.objects.select_related("tenant", "invoice")
        .defer("body", "invoice__pdf", "invoice__seller_snapshot", "invoice__buyer_snapshot")
        .order_by("-created_at", "-id")
    )
    if status:
        outbox = outbox.filter(status=status)
    counts = dict(
        OutboxMessage.objects.order_by().values_list("status").annotate(count=Count("id"))
    )
    return render(
        request,
        "operator/outbox.html",
        {
            "page": Paginator(outbox, MESSAGES_PER_PAGE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in OutboxStatus.choices
            ],
            "total": sum(counts.values()),
            "max_attempts": MAX_ATTEMPTS,
        },
    )


@require_POST
@operator_view
def operator_outbox_retry_view(request: HttpRequest, outboxmessage_id: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage.objects.defer("body"), pk=outboxmessage_id)
    try:
        outbox_message_retry(message=message, by=request.user)
    except OutboxRetryError:
        messages.error(request, _("Only a failed message can be sent again."))
    else:
        messages.success(
            request, _("The message to %(to)s is queued to be sent again.") % {"to": message.to}
        )
    status = request.POST.get("status", "")
    url = reverse("operator_outbox")
    return redirect(f"{url}?status={status}" if status in OutboxStatus.values else url)
