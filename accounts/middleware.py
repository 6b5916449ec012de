from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.twofactor import two_factor_required

# Paths an unenrolled user may still reach: enrolment itself, sign-out, language, assets.
_OPEN_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/links/",
)


class TwoFactorEnforcementMiddleware:
    """A signed-in user who must use two-factor and has not verified a device this session
    reaches nothing but enrolment (the Django admin included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not user.is_verified()
            and two_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "status": 403,
                            "code": "two_factor_required",
                            "message": "Set up two-factor sign-in first.",
                        }
                    },
                    status=403,
                )
            return redirect(reverse("accounts:two_factor_setup"))
        return self.get_response(request)


class OperatorScopeMiddleware:
    """Operators see every tenant in the Django admin: the one place where tenant scoping
    is lifted, and only for verified operators."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and getattr(request.user, "is_operator", False):
            with scopes_disabled():
                return self.get_response(request)
        return self.get_response(request)
