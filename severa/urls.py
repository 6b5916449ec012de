from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from accounts import views as account_views
from severa.health import healthz


def _admin_login(request):
    # The admin signs in through the same form as everything else (lock-out, two-factor).
    return redirect(f"/accounts/login/?next={request.GET.get('next', '/admin/')}")


admin.site.login = _admin_login
admin.site.site_header = "Severa billing — operators"

urlpatterns = [
    path("", account_views.dashboard_view, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("t/<int:tenant_id>/", include("severa.tenant_urls")),
    path("p/<int:partner_id>/", include("partners.urls")),
    path("operator/", include("billing.operator_urls")),
    path("operator/", include("partners.operator_urls")),
    path("operator/", include("accounts.operator_urls")),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
]

# E-mailed partner links: activation approval, a customer's invitation (partners/).
urlpatterns += [path("partners/", include("partners.link_urls"))]

# E-mailed invoice links: the token is the credential (billing/link_views.py).
urlpatterns += [path("links/invoices/", include("billing.link_urls"))]

# The OAuth2 callback of every accounting system: one registered URL, the signed state names
# the tenant and the connection (integrations/oauth.py).
from integrations import views as integration_views  # noqa: E402

urlpatterns += [
    path(
        "integrations/oauth/callback/",
        integration_views.oauth_callback_view,
        name="integrations_oauth_callback",
    )
]

handler400 = "api.errors.handler400"
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
