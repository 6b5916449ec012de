"""The operators' support requests page: partners' downgrades that are not self-service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.operator_views import operator_view
from partners.models import SupportRequest
from partners.selectors import support_requests_open
from partners.services.support import support_request_resolve


@operator_view
def operator_support_requests_view(request: HttpRequest) -> HttpResponse:
    return render(request, "operator/support_requests.html", {"requests": support_requests_open()})


@require_POST
@operator_view
def operator_support_request_resolve_view(
    request: HttpRequest, supportrequest_id: int
) -> HttpResponse:
    support_request = get_object_or_404(SupportRequest, pk=supportrequest_id)
    try:
        support_request_resolve(support_request=support_request, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The request is resolved."))
    return redirect("operator_support_requests")
