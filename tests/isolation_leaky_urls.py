"""A urlconf for one test only: the real routes plus one deliberately unscoped view, to prove
that the isolation walker catches a leak."""

from django.http import HttpResponse
from django.urls import include, path
from django_scopes import scopes_disabled

from accounts.models import Membership
from accounts.tenancy import tenant_view


@tenant_view()
def leaky_membership_view(request, membership_id):
    # The bug the walker must catch: a lookup by id from the URL that ignores the tenant.
    with scopes_disabled():
        membership = Membership.objects.get(pk=membership_id)
    return HttpResponse(membership.user.email)


urlpatterns = [
    path("t/<int:tenant_id>/leak/<int:membership_id>/", leaky_membership_view),
    path("", include("severa.urls")),
]
