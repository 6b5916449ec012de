"""The audit log's pages: a company's administrators read their company's events (a tenant
page), operators read everyone's with filters (an operator page). Reads only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.audit import ActorKind, AuditAction, audit_action_label
from accounts.models import AuditEvent, Partner, Role, Tenant
from accounts.tenancy import OPERATOR, tenant_view
from severa.paging import page_of, query_without_page

# Who may read a company's audit log: its administrators (and the operators, who act for
# every company).
AUDIT_ROLES = (Role.ADMIN, OPERATOR)


def _rows(page) -> list[dict]:
    """Each event as the page shows it: when, who, what (in the reader's language), about
    what, for whom."""
    return [
        {
            "event": event,
            "action": audit_action_label(value=event.action),
            "actor": (
                event.actor_label
                if event.actor_kind in (ActorKind.USER, ActorKind.PARTNER_USER, ActorKind.OPERATOR)
                else ActorKind(event.actor_kind).label
            ),
            "actor_kind": (
                ActorKind(event.actor_kind).label
                if event.actor_kind in ActorKind.values
                else event.actor_kind
            ),
            "actor_detail": event.actor_label if event.actor_kind == ActorKind.CONNECTION else "",
        }
        for event in page.object_list
    ]


@tenant_view(*AUDIT_ROLES)
def tenant_audit_view(request: HttpRequest) -> HttpResponse:
    """The company's audit log, newest first, paged."""
    page = page_of(request, AuditEvent.objects.order_by("-created_at", "-pk"))
    return render(
        request,
        "tenant/audit.html",
        {"page": page, "rows": _rows(page), "query": query_without_page(request)},
    )


def operator_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operator pages see every tenant; anyone else gets a 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not getattr(request.user, "is_operator", False):
            raise Http404
        with scopes_disabled():
            return view(request, *args, **kwargs)

    return wrapped


class AuditFilterForm(forms.Form):
    tenant = forms.ModelChoiceField(
        label=_("Company"), queryset=Tenant.objects.order_by("name", "pk"), required=False
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=Partner.objects.order_by("name", "pk"), required=False
    )
    action = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All")), *AuditAction.choices]


@operator_only
def operator_audit_view(request: HttpRequest) -> HttpResponse:
    """Every company's, partner's and the operators' own events, newest first, filtered by
    company, partner and action."""
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("tenant", "partner").order_by("-created_at", "-pk")
    if form.is_valid():
        if form.cleaned_data["tenant"] is not None:
            events = events.filter(tenant=form.cleaned_data["tenant"])
        if form.cleaned_data["partner"] is not None:
            events = events.filter(partner=form.cleaned_data["partner"])
        if form.cleaned_data["action"]:
            events = events.filter(action=form.cleaned_data["action"])
    page = page_of(request, events)
    return render(
        request,
        "operator/audit.html",
        {
            "form": form,
            "page": page,
            "rows": _rows(page),
            "query": query_without_page(request),
        },
    )
