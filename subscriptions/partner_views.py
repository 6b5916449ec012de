from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_scopes import scope

from accounts.models import Collaboration, PartnerMembership
from accounts.tenancy import partner_access


def partner_home_view(request: HttpRequest, partner_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    partner = partner_access(user=request.user, partner_id=partner_id)
    tenant_ids = list(
        Collaboration.objects.with_scopes_disabled()
        .filter(partner=partner)
        .values_list("tenant_id", flat=True)
    )
    # A partner acts for the tenants it collaborates with, and only for those.
    with scope(tenant=tenant_ids):
        collaborations = list(
            Collaboration.objects.filter(partner=partner).select_related("tenant")
        )
    users = PartnerMembership.objects.filter(partner=partner).select_related("user")
    return render(
        request,
        "partner/home.html",
        {"partner": partner, "collaborations": collaborations, "partner_users": users},
    )
