from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_scopes import scopes_disabled

from accounts.models import Partner, Tenant
from billing.models import SellerEntity


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operator pages see every tenant; anyone else gets a 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not getattr(request.user, "is_operator", False):
            raise Http404
        with scopes_disabled():
            return view(request, *args, **kwargs)

    return wrapped


@operator_view
def operator_home_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "operator/home.html",
        {
            "tenants": Tenant.objects.all(),
            "partners": Partner.objects.all(),
            "sellers": SellerEntity.objects.prefetch_related("bank_accounts"),
        },
    )
