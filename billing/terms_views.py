"""The terms page a tenant admin sees at the first sign-in after a seller migration, and the
middleware that sends the admin there before any other page of the tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.request_cache import membership_cached
from accounts.tenancy import tenant_scope, tenant_view
from billing.terms import terms_accept, terms_current, terms_pending
from severa import clock
from subscriptions.models import Subscription

# Per session, the time each tenant was last found to owe no acceptance: the check costs one
# query, and at most once per this many seconds per tenant and session.
TERMS_SESSION_KEY = "billing.terms_checked"
TERMS_RECHECK_SECONDS = 300


def terms_exempt(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a tenant view that an admin reaches before accepting pending terms of service
    (apply beneath ``tenant_view``)."""
    view.terms_exempt = True  # type: ignore[attr-defined]
    return view


class TermsGateMiddleware:
    """Sends a tenant's admin to the terms page while the seller's new terms wait for
    acceptance: before any tenant page (a view under ``tenant_view``) except the exempt ones.

    Only members can be admins: operators and partners pass untouched, and the membership
    comes from the request cache that ``tenant_view`` reads next, so the check adds no query
    beyond the gate's own (at most one per tenant and session every few minutes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not hasattr(view_func, "tenant_roles") or getattr(view_func, "terms_exempt", False):
            return None
        user = request.user
        if not user.is_authenticated or not user.is_active or user.is_operator:
            return None
        try:
            tenant_id = int(view_kwargs.get("tenant_id"))
        except (TypeError, ValueError):
            return None
        membership = membership_cached(user=user, tenant_id=tenant_id)
        if membership is None or membership[1] != Role.ADMIN:
            return None
        request.tenant = membership[0]
        with tenant_scope(membership[0]):
            return terms_gate(request)


def _remember_no_terms_due(request: HttpRequest, tenant_id: int) -> None:
    checked = dict(request.session.get(TERMS_SESSION_KEY, {}))
    checked[str(tenant_id)] = clock.now().timestamp()
    request.session[TERMS_SESSION_KEY] = checked


def terms_gate(request: HttpRequest) -> HttpResponse | None:
    """A redirect to the terms page when the tenant's admin has new terms to accept."""
    tenant = request.tenant
    checked_at = request.session.get(TERMS_SESSION_KEY, {}).get(str(tenant.pk))
    if checked_at is not None and clock.now().timestamp() - checked_at < TERMS_RECHECK_SECONDS:
        return None
    if terms_pending(tenant=tenant) is None:
        _remember_no_terms_due(request, tenant.pk)
        return None
    target = reverse("tenant_terms", args=[tenant.pk])
    return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("tenant_home", args=[request.tenant.pk])


@tenant_view()
@terms_exempt
def terms_view(request: HttpRequest) -> HttpResponse:
    """The seller's terms of service; an admin accepts pending ones here."""
    tenant = request.tenant
    pending = terms_pending(tenant=tenant)
    if request.method == "POST":
        if request.tenant_role != Role.ADMIN:
            raise PermissionDenied
        if pending is None:
            return redirect(_next_url(request))
        if request.POST.get("version") != pending.version:
            # The seller published another version while the page was open: show that one.
            messages.error(request, _("The terms have changed. Please read them again."))
        else:
            terms_accept(tenant=tenant, terms=pending, user=request.user)
            _remember_no_terms_due(request, tenant.pk)
            messages.success(request, _("Thank you: the terms of service are accepted."))
            return redirect(_next_url(request))
    terms = pending
    if terms is None:
        subscription = Subscription.objects.select_related("seller").filter(tenant=tenant).first()
        terms = terms_current(seller=subscription.seller) if subscription else None
    return render(
        request,
        "billing/terms.html",
        {
            "terms": terms,
            "is_pending": pending is not None,
            "can_accept": request.tenant_role == Role.ADMIN,
            "next": _next_url(request),
        },
    )
