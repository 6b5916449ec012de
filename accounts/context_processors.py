from django.http import HttpRequest

from accounts.tenancy import partners_for_user, tenants_for_user


def navigation(request: HttpRequest) -> dict:
    """What the navigation shows: the tenant in view and the user's other places."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def places() -> dict:
        return {"tenants": tenants_for_user(user), "partners": partners_for_user(user)}

    return {
        "nav_tenant": getattr(request, "tenant", None),
        "nav_role": getattr(request, "tenant_role", None),
        "nav_places": places,
    }
