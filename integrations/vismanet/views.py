"""The subaccount segments page of a Visma.net ERP connection: which segment holds
departments and which cost centres, and each business unit's and cost centre's value.
Thin: the rules are in integrations.vismanet.segments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.tenancy import MANAGING_ROLES, tenant_view
from integrations.errors import IntegrationError
from integrations.models import Connection
from integrations.vismanet.connector import client_for
from integrations.vismanet.segments import (
    Segment,
    dimension_segments,
    segment_overview,
    segment_settings,
    segment_settings_save,
)


def _segment_id(raw: str) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _matches(request: HttpRequest, prefix: str) -> dict[int, str]:
    matches = {}
    for name, value in request.POST.items():
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            matches[int(name[len(prefix) :])] = value
    return matches


@tenant_view(*MANAGING_ROLES)
def segments_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_object_or_404(
        Connection.objects.select_related("tenant"), pk=connection_id, system="visma_net"
    )
    if not connection.is_authorized:
        raise Http404("The connection is not authorised.")
    segments: dict[int, Segment] = {}
    problem = ""
    try:
        segments = dimension_segments(dimension=client_for(connection).subaccount_dimension())
    except IntegrationError as error:
        problem = str(error)
    current = segment_settings(connection=connection)
    if request.method == "POST" and not problem:
        department = _segment_id(request.POST.get("department_segment", ""))
        cost_centre = _segment_id(request.POST.get("cost_centre_segment", ""))
        units = _matches(request, "bu-") if department == current.department_segment else {}
        centres = _matches(request, "cc-") if cost_centre == current.cost_centre_segment else {}
        try:
            segment_settings_save(
                connection=connection,
                segments=segments,
                department_segment=department,
                cost_centre_segment=cost_centre,
                business_units=units,
                cost_centres=centres,
                actor=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            changed = department != current.department_segment or (
                cost_centre != current.cost_centre_segment
            )
            messages.success(
                request,
                _("Saved. Now match the values of the newly picked segment.")
                if changed
                else _("Saved."),
            )
            return redirect(
                "tenant_integration_segments",
                tenant_id=request.tenant.pk,
                connection_id=connection.pk,
            )
    overview = segment_overview(connection=connection, segments=segments)
    return render(
        request,
        "integrations/vismanet_segments.html",
        {
            "connection": connection,
            "problem": problem,
            "segments": sorted(segments.values(), key=lambda segment: segment.segment_id),
            "settings": current,
            "tables": [
                (
                    _("Departments (business units)"),
                    "bu-",
                    segments.get(current.department_segment or -1),
                    overview["business_unit"],
                ),
                (
                    _("Cost centres"),
                    "cc-",
                    segments.get(current.cost_centre_segment or -1),
                    overview["cost_centre"],
                ),
            ],
        },
    )
