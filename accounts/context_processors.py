from django.http import HttpRequest

from accounts.navigation import navigation_places


def navigation(request: HttpRequest) -> dict:
    """What the navigation shows: the tenant in view and the user's partner organisations
    (cached per user, see accounts/navigation.py)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_tenant": getattr(request, "tenant", None),
        "nav_role": getattr(request, "tenant_role", None),
        "nav_places": lambda: navigation_places(user),
    }
