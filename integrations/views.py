from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.tenancy import MANAGING_ROLES, tenant_view
from subscriptions.models import Interface


@tenant_view(*MANAGING_ROLES)
def integrations_view(request: HttpRequest) -> HttpResponse:
    return render(request, "tenant/integrations.html", {"interfaces": Interface.objects.all()})
