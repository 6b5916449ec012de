from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.tenancy import MANAGING_ROLES, tenant_view
from subscriptions.models import Edition


@tenant_view(*MANAGING_ROLES)
def upgrades_view(request: HttpRequest) -> HttpResponse:
    return render(request, "tenant/upgrades.html", {"editions": Edition.objects.all()})
