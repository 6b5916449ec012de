"""The step before an action that cannot be undone: a page that says what will happen and
from when, with a form that carries the confirmation. The action's view acts only on a POST
that carries it; any other request (a link, a bare POST) shows this page and changes nothing."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"


def confirmed(request: HttpRequest) -> bool:
    """Whether ``request`` is the confirmation form's POST."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    confirm_label: str,
    cancel_url: str,
) -> HttpResponse:
    """The page asking to confirm the action of ``request.path``."""
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "consequences": consequences,
            "confirm_label": confirm_label,
            "cancel_url": cancel_url,
            "confirm_field": CONFIRM_FIELD,
            "confirm_value": CONFIRM_VALUE,
        },
    )
