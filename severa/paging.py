"""Every list page is paged the same way: ``?page=N`` with the other query parameters kept,
shown with ``templates/_pager.html``."""

from collections.abc import Callable, Iterable

from django.core.paginator import Page, Paginator
from django.db import models
from django.http import HttpRequest
from django.urls import reverse

from severa.table_versions import versioned_read

LIST_PAGE_SIZE = 20


def page_of(request: HttpRequest, items, per_page: int = LIST_PAGE_SIZE) -> Page:
    """The page of `items` that ``?page=`` asks for (the last one when past the end, the first
    one when not a number)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def page_of_kept(
    request: HttpRequest,
    items,
    *,
    key: str,
    sources: Iterable[type[models.Model] | str],
    per_page: int = LIST_PAGE_SIZE,
) -> Page:
    """`page_of` for a list of plain values (a ``values_list`` query) that is read often: the
    page's rows and the count are kept under `key` until one of the tables of `sources`
    changes (severa/table_versions.py)."""
    asked = request.GET.get("page") or ""
    asked = asked if asked.isdigit() and len(asked) < 9 else ""

    def build() -> tuple[int, int, list]:
        page = Paginator(items, per_page).get_page(asked)
        return page.paginator.count, page.number, list(page.object_list)

    count, number, rows = versioned_read(f"{key}:page:{asked}", sources, build)
    # A paginator over a range of the same length answers the pager's questions without
    # reading the rows again.
    return Page(rows, number, Paginator(range(count), per_page))


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
