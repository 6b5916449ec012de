"""What the navigation bar shows besides the tenant in view: the user's partner organisations.

Built once per user and kept in the shared cache; any change to a partner or a partner
membership forgets the affected users' entries (at once and again after the commit, so a
request that rebuilt an entry between the two saw the old rows only briefly).
"""

from __future__ import annotations

from django.core.cache import cache

from accounts.models import Partner, PartnerMembership, User
from accounts.tenancy import partners_for_user
from severa.cache import cache_forget

NAVIGATION_CACHE_SECONDS = 60 * 60


def _key(user_id: int) -> str:
    return f"accounts:navigation:{user_id}"


def navigation_places(user: User) -> dict[str, list[dict]]:
    """The partners the user acts for, as ``{"partners": [{"pk", "name"}, ...]}``."""
    key = _key(user.pk)
    places = cache.get(key)
    if places is None:
        places = {
            "partners": [{"pk": p.pk, "name": p.name} for p in partners_for_user(user)],
        }
        cache.set(key, places, NAVIGATION_CACHE_SECONDS)
    return places


def navigation_forget(user_ids: list[int]) -> None:
    """Drop the cached navigation of these users, now and after the current commit."""
    if not user_ids:
        return
    cache_forget([_key(user_id) for user_id in user_ids])


def partner_membership_changed(instance: PartnerMembership, **_kwargs) -> None:
    """Signal receiver: a membership was added, changed or removed."""
    navigation_forget([instance.user_id])


def partner_changed(instance: Partner, **_kwargs) -> None:
    """Signal receiver: a partner was saved (renamed); its users' navigation changes."""
    navigation_forget(
        list(PartnerMembership.objects.filter(partner=instance).values_list("user_id", flat=True))
    )
