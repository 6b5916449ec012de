"""The Integrations page, a connection's page (settings, connect, sync now, runs) and a
run's transfer log. Every view is thin: the rules are in integrations.connections,
integrations.oauth and integrations.runs."""

from contextlib import suppress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_scopes import scope

from accounts.locale_format import date_format
from accounts.tenancy import MANAGING_ROLES, tenant_access, tenant_view
from integrations.agent_views import page_context as agent_page_context
from integrations.connections import (
    PAUSED_BY_COMPANY,
    SETTINGS_FIELDS,
    connection_activation_errors,
    connection_create,
    connection_pause,
    connection_resume,
    connection_settings_update,
    systems_overview,
)
from integrations.connectors import connector_available, connector_page_notes
from integrations.engine import connection_unverified
from integrations.errors import IntegrationError
from integrations.forms import ConnectionCreateForm, ConnectionSettingsForm, RunFilterForm
from integrations.health import run_history
from integrations.models import Connection, SyncRun, SyncTrigger, TransferOutcome
from integrations.oauth import (
    AuthorizationStateError,
    authorization_complete,
    authorization_start,
    authorization_state_check,
    connection_disconnect,
)
from integrations.runs import RunInProgress, open_run, sync_run_start
from severa import clock
from severa.confirm import confirmation_page, confirmed
from severa.forms import form_errors_from
from severa.paging import page_of, query_without_page

TRANSFERS_PER_PAGE = 100


def _messages_from(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@tenant_view(*MANAGING_ROLES)
def integrations_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ConnectionCreateForm(request.POST)
        if form.is_valid():
            try:
                connection = connection_create(
                    tenant=request.tenant, system=form.cleaned_data["system"], actor=request.user
                )
            except ValidationError as error:
                _messages_from(request, error)
            else:
                return redirect(
                    "tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk
                )
        return redirect("tenant_integrations", tenant_id=request.tenant.pk)
    return render(
        request, "tenant/integrations.html", {"systems": systems_overview(tenant=request.tenant)}
    )


def _connection(request: HttpRequest, connection_id: int) -> Connection:
    return get_object_or_404(Connection.objects.select_related("tenant"), pk=connection_id)


@tenant_view(*MANAGING_ROLES)
def connection_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    if request.method == "POST":
        form = ConnectionSettingsForm(request.POST, tenant=request.tenant, system=connection.system)
        if form.is_valid():
            try:
                connection_settings_update(
                    connection=connection, values=form.cleaned_data, actor=request.user
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The settings are saved."))
                return redirect(
                    "tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk
                )
    else:
        initial = {name: getattr(connection, name) for name in SETTINGS_FIELDS}
        initial["error_emails"] = "\n".join(connection.error_emails or [])
        form = ConnectionSettingsForm(
            initial=initial, tenant=request.tenant, system=connection.system
        )
    run_filter = RunFilterForm(request.GET)
    wanted = run_filter.cleaned_data if run_filter.is_valid() else {}
    runs = page_of(
        request,
        run_history(connection, status=wanted.get("status", ""), trigger=wanted.get("trigger", "")),
    )
    return render(
        request,
        "integrations/connection.html",
        {
            "connection": connection,
            "form": form,
            "activation_errors": connection_activation_errors(connection=connection),
            "connector_available": connector_available(connection.system),
            "connector_notes": connector_page_notes(connection),
            "open_run": open_run(connection=connection),
            "runs": runs,
            "run_filter": run_filter,
            "query": query_without_page(request),
            "blocked_entities": connection.blocked_entities.all(),
            "unverified": connection_unverified(connection=connection),
            **agent_page_context(connection),
        },
    )


@require_POST
@tenant_view(*MANAGING_ROLES)
def connection_connect_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    try:
        url = authorization_start(session=request.session, connection=connection)
    except ValidationError as error:
        _messages_from(request, error)
    except LookupError:
        messages.error(request, _("This system cannot be connected yet."))
    else:
        return redirect(url)
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


@login_required
@require_safe
def oauth_callback_view(request: HttpRequest) -> HttpResponse:
    """Where the accounting system sends the administrator back (one registered URL for
    every tenant: the state says which tenant and connection)."""
    try:
        tenant_id, connection_id = authorization_state_check(
            session=request.session, state=request.GET.get("state", "")
        )
    except AuthorizationStateError as error:
        return render(
            request, "integrations/callback_error.html", {"message": str(error)}, status=400
        )
    access = tenant_access(user=request.user, tenant_id=tenant_id)
    if access.role not in MANAGING_ROLES:
        raise Http404("No such connection.")
    with scope(tenant=access.tenant.pk):
        connection = get_object_or_404(Connection, pk=connection_id)
        target = redirect(
            "tenant_integration", tenant_id=access.tenant.pk, connection_id=connection.pk
        )
        if request.GET.get("error") or not request.GET.get("code"):
            messages.error(
                request,
                _(
                    "The accounting system did not authorise the connection (%(error)s). "
                    "Nothing was changed."
                )
                % {"error": request.GET.get("error_description") or request.GET.get("error", "")},
            )
            return target
        try:
            connection = authorization_complete(
                connection=connection, code=request.GET["code"], actor=request.user
            )
        except ValidationError as error:
            _messages_from(request, error)
        except IntegrationError as error:
            messages.error(
                request,
                _("The authorisation failed: %(error)s. Nothing was changed.") % {"error": error},
            )
        else:
            messages.success(request, _("Connected. The first sync starts within minutes."))
            # A run queued already reads everything too.
            with suppress(RunInProgress):
                sync_run_start(
                    connection=connection, trigger=SyncTrigger.MANUAL, actor=request.user
                )
        return target


@require_http_methods(["GET", "POST"])
@tenant_view(*MANAGING_ROLES)
def connection_disconnect_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    if not confirmed(request):
        system = connection.get_system_display()
        return confirmation_page(
            request,
            title=_("Disconnect %(system)s?") % {"system": system},
            consequences=[
                _(
                    "From now on, today %(date)s, nothing is transferred between Severa and "
                    "%(system)s: the access is revoked at %(system)s and the stored credentials "
                    "are deleted."
                )
                % {"date": date_format(clock.today()), "system": system},
                _("The settings, the matched records and the transfer log stay."),
                _(
                    "To transfer again, connect anew: an administrator of %(system)s must "
                    "authorise it."
                )
                % {"system": system},
            ],
            confirm_label=_("Disconnect %(system)s") % {"system": system},
            cancel_url=reverse(
                "tenant_integration",
                kwargs={"tenant_id": request.tenant.pk, "connection_id": connection.pk},
            ),
        )
    note = connection_disconnect(connection=connection, actor=request.user)
    messages.success(request, _("Disconnected: the stored credentials are deleted."))
    if note:
        messages.warning(request, note)
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


@require_POST
@tenant_view(*MANAGING_ROLES)
def connection_pause_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    connection_pause(connection=connection, reason=PAUSED_BY_COMPANY, actor=request.user)
    messages.success(request, _("The connection is paused: nothing syncs until you resume it."))
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


@require_POST
@tenant_view(*MANAGING_ROLES)
def connection_resume_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    try:
        connection_resume(connection=connection, actor=request.user)
    except ValidationError as error:
        _messages_from(request, error)
    else:
        messages.success(request, _("The connection is active again."))
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


@require_POST
@tenant_view(*MANAGING_ROLES)
def connection_sync_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    try:
        run = sync_run_start(connection=connection, trigger=SyncTrigger.MANUAL, actor=request.user)
    except ValidationError as error:
        _messages_from(request, error)
    except RunInProgress as error:
        messages.info(request, str(error))
        if error.run is not None:
            return redirect(
                "tenant_integration_run",
                tenant_id=request.tenant.pk,
                connection_id=connection.pk,
                syncrun_id=error.run.pk,
            )
    else:
        return redirect(
            "tenant_integration_run",
            tenant_id=request.tenant.pk,
            connection_id=connection.pk,
            syncrun_id=run.pk,
        )
    return redirect("tenant_integration", tenant_id=request.tenant.pk, connection_id=connection.pk)


def _run(request: HttpRequest, connection_id: int, syncrun_id: int) -> SyncRun:
    connection = _connection(request, connection_id)
    return get_object_or_404(
        SyncRun.objects.select_related("connection"), pk=syncrun_id, connection=connection
    )


@require_safe
@tenant_view(*MANAGING_ROLES)
def run_view(request: HttpRequest, connection_id: int, syncrun_id: int) -> HttpResponse:
    run = _run(request, connection_id, syncrun_id)
    outcome = request.GET.get("outcome", "")
    transfers = run.transfers.order_by("id")
    if outcome in TransferOutcome.values:
        transfers = transfers.filter(outcome=outcome)
    else:
        outcome = ""
    return render(
        request,
        "integrations/run.html",
        {
            "run": run,
            "connection": run.connection,
            "outcome": outcome,
            "outcomes": TransferOutcome.choices,
            "transfers": Paginator(transfers, TRANSFERS_PER_PAGE).get_page(request.GET.get("page")),
        },
    )


@require_safe
@tenant_view(*MANAGING_ROLES)
def run_progress_view(request: HttpRequest, connection_id: int, syncrun_id: int) -> HttpResponse:
    """The run's progress, polled by htmx while it is open."""
    run = _run(request, connection_id, syncrun_id)
    return render(request, "integrations/_run_progress.html", {"run": run})
