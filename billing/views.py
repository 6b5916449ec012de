from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.tenancy import BILLING_ROLES, tenant_view


@tenant_view(*BILLING_ROLES)
def billing_view(request: HttpRequest) -> HttpResponse:
    return render(request, "tenant/billing.html")
