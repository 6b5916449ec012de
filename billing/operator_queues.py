"""What the operators' delivery queues share (the e-mail outbox, the e-invoice deliveries):
a list filtered by status with a count per status, and a Retry that comes back to the same
filter."""

from django.core.paginator import Paginator
from django.db.models import Count, Model, QuerySet, TextChoices
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.outbox import MAX_ATTEMPTS

ROWS_PER_PAGE = 100


def queue_page(
    request: HttpRequest,
    *,
    rows: QuerySet,
    model: type[Model],
    statuses: type[TextChoices],
    template: str,
) -> HttpResponse:
    """Render `template` with a page of `rows` (newest first), narrowed to `?status=` when it
    is one of `statuses`, and the number of rows of `model` in each status."""
    status = request.GET.get("status", "")
    if status not in statuses.values:
        status = ""
    rows = rows.order_by("-created_at", "-id")
    if status:
        rows = rows.filter(status=status)
    counts = dict(model._default_manager.order_by().values_list("status").annotate(n=Count("id")))
    return render(
        request,
        template,
        {
            "page": Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in statuses.choices],
            "total": sum(counts.values()),
            "max_attempts": MAX_ATTEMPTS,
        },
    )


def back_to_queue(request: HttpRequest, url_name: str, statuses: type[TextChoices]) -> HttpResponse:
    """After a Retry: the queue again, with the status filter the operator came from."""
    status = request.POST.get("status", "")
    url = reverse(url_name)
    return redirect(f"{url}?status={status}" if status in statuses.values else url)
