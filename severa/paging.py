"""Every list page is paged the same way: ``?page=N`` with the other query parameters kept,
shown with ``templates/_pager.html``."""

from collections.abc import Callable

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.urls import reverse

LIST_PAGE_SIZE = 20


def page_of(request: HttpRequest, items, per_page: int = LIST_PAGE_SIZE) -> Page:
    """The page of `items` that ``?page=`` asks for (the last one when past the end, the first
    one when not a number)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without ``page``, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


_ROW_SENTINEL = 987654321


def row_url(name: str, *args: object) -> Callable[[int], str]:
    """``reverse(name, args=[*args, pk])`` for each row of a list, reversing once: the URL of
    a sentinel id is split around it."""
    prefix, _sentinel, suffix = reverse(name, args=[*args, _ROW_SENTINEL]).rpartition(
        str(_ROW_SENTINEL)
    )
    return lambda pk: f"{prefix}{int(pk)}{suffix}"
