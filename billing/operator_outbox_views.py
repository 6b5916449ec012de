"""The operators' outbox page (/operator/outbox/): every e-mail the outbox holds (every
tenant's, partner's and user's: accounts/outbox.py), with its status, attempts and last
error, filtered by status; a failed message can be sent again."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import OutboxMessage, OutboxStatus
from accounts.outbox import OutboxRetryError, outbox_message_retry
from billing.operator_queues import back_to_queue, queue_page
from billing.operator_views import operator_view
from severa.errors import refusal_show


@require_safe
@operator_view
def operator_outbox_view(request: HttpRequest) -> HttpResponse:
    return queue_page(
        request,
        rows=OutboxMessage.objects.select_related(
            "tenant", "partner", "invoice_message__invoice"
        ).defer(
            "body",
            "attachment",
            "invoice_message__invoice__pdf",
            "invoice_message__invoice__seller_snapshot",
            "invoice_message__invoice__buyer_snapshot",
        ),
        model=OutboxMessage,
        statuses=OutboxStatus,
        template="operator/outbox.html",
    )


@require_POST
@operator_view
def operator_outbox_retry_view(request: HttpRequest, outboxmessage_id: int) -> HttpResponse:
    message = get_object_or_404(
        OutboxMessage.objects.defer("body", "attachment"), pk=outboxmessage_id
    )
    try:
        outbox_message_retry(message=message, actor=request.user)
    except OutboxRetryError as error:
        refusal_show(request, error)
    else:
        messages.success(
            request, _("The message to %(to)s is queued to be sent again.") % {"to": message.to}
        )
    return back_to_queue(request, "operator_outbox", OutboxStatus)
