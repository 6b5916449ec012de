"""Licences on the company's Users page: the page belongs to accounts, the seat limit to
subscriptions, which adds its figures to the page (accounts.hooks) and takes its actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Membership
from accounts.tenancy import MANAGING_ROLES, tenant_view
from severa.errors import refusal_show
from subscriptions.services import LicenceError, licence_activate, licence_deactivate


@require_POST
@tenant_view(*MANAGING_ROLES)
def membership_licence_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Activate (use a licence) or deactivate (free it) a user of the company."""
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
    activate = request.POST.get("action") == "activate"
    try:
        if activate:
            licence_activate(membership=membership, actor=request.user)
        else:
            licence_deactivate(membership=membership, actor=request.user)
    except LicenceError as error:
        refusal_show(request, error)
        request.session["licence_refused"] = True
    else:
        name = membership.user.get_full_name() or membership.user.username
        if activate:
            messages.success(request, _("%(name)s is active and uses a licence.") % {"name": name})
        else:
            messages.success(request, _("%(name)s is deactivated.") % {"name": name})
    return redirect("tenant_users", tenant_id=request.tenant.pk)
