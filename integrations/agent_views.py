"""The agent on the connection page: its key (issued or rotated, shown once; revoked) and
the Visma Global settings the agent fetches."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.tenancy import MANAGING_ROLES, tenant_view
from integrations.agent_status import agent_status
from integrations.agents import agent_key_issue, agent_key_revoke, agent_of
from integrations.connectors import UnknownSystem, connector_for
from integrations.models import Connection, Master
from integrations.visma_global.settings import (
    MASTER_TYPES,
    customer_types_parse,
    visma_global_settings_update,
)
from severa.confirm import confirmation_page, confirmed

MASTER_LABELS = {
    "business_unit": gettext_lazy("Master for business units"),
    "employee": gettext_lazy("Master for employees"),
    "project": gettext_lazy("Master for projects"),
}


def uses_agent(connection: Connection) -> bool:
    try:
        return bool(getattr(connector_for(connection.system), "uses_agent", False))
    except UnknownSystem:
        return False


def page_context(connection: Connection) -> dict:
    """What the connection page shows of the agent (empty for systems without one)."""
    if not uses_agent(connection):
        return {}
    agent = agent_of(connection=connection)
    options = agent.options or {}
    initial = {
        "customer_types": ", ".join(str(n) for n in options.get("customer_types") or []),
        "supplier_invoices_billable": options.get("supplier_invoices_billable", True),
        **{f"master_{kind}": connection.master_for(kind) for kind in MASTER_TYPES},
    }
    return {"agent": agent_status(connection), "agent_form": AgentSettingsForm(initial=initial)}


class AgentSettingsForm(forms.Form):
    customer_types = forms.CharField(
        label=gettext_lazy("Customer types that transfer from Visma Global"),
        required=False,
        help_text=gettext_lazy("Customer type numbers, e.g. 1, 2; empty: all types."),
    )
    supplier_invoices_billable = forms.BooleanField(
        label=gettext_lazy("Supplier invoices on projects are billable (otherwise only costs)"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in MASTER_TYPES:
            self.fields[f"master_{kind}"] = forms.ChoiceField(
                label=MASTER_LABELS[kind], choices=Master.choices
            )


def _connection(request: HttpRequest, connection_id: int) -> Connection:
    connection = get_object_or_404(Connection, pk=connection_id)
    if not uses_agent(connection):
        raise Http404
    return connection


def _back(request: HttpRequest, connection: Connection) -> HttpResponse:
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


@require_POST
@tenant_view(*MANAGING_ROLES)
def agent_key_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    """Issue (or rotate) the agent key and show it this once."""
    connection = _connection(request, connection_id)
    key = agent_key_issue(connection=connection, actor=request.user)
    return render(
        request,
        "integrations/agent_key.html",
        {"connection": connection, "key": key, "service_url": request.build_absolute_uri("/")},
    )


@require_POST
@tenant_view(*MANAGING_ROLES)
def agent_revoke_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    if not confirmed(request):
        return confirmation_page(
            request,
            title=_("Revoke the agent key?"),
            consequences=[
                _(
                    "The agent is refused at its next call: nothing is transferred until you "
                    "issue a new key and configure the agent with it."
                ),
            ],
            confirm_label=_("Revoke the key"),
            cancel_url=reverse(
                "tenant_integration",
                kwargs={"tenant_id": request.tenant.pk, "connection_id": connection.pk},
            ),
        )
    agent_key_revoke(connection=connection, actor=request.user)
    messages.success(request, _("The agent key is revoked."))
    return _back(request, connection)


@require_POST
@tenant_view(*MANAGING_ROLES)
def agent_settings_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    form = AgentSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the agent settings."))
        return _back(request, connection)
    try:
        visma_global_settings_update(
            connection=connection,
            customer_types=customer_types_parse(form.cleaned_data["customer_types"]),
            supplier_invoices_billable=form.cleaned_data["supplier_invoices_billable"],
            masters={kind: form.cleaned_data[f"master_{kind}"] for kind in MASTER_TYPES},
            actor=request.user,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The settings are saved."))
    return _back(request, connection)
