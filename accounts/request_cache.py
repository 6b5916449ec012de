"""What every signed-in request reads before its view runs: the user, the two-factor device
the session was verified with, and the user's membership of the tenant in view.

Each is kept in the shared cache for a short while and forgotten at once, and again after
the commit, whenever a row it comes from changes (the receivers below, connected in
accounts/apps.py; a queryset's update() of users or memberships announces its rows too):
a password change, a deactivation, a removed device or membership takes effect on the next
request. The lifetime bounds the one window that remains, a request that read the old row
while the change was being committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device
from django_scopes import scopes_disabled

from accounts.models import Membership, Tenant, User
from severa.cache import cache_forget, cache_get, cache_read_once, cache_set

REQUEST_CACHE_SECONDS = 120
# A user who is not a member of the tenant (a partner or an operator acting for it).
_NOT_A_MEMBER = "-"


def _user_key(user_id: Any) -> str:
    return f"accounts:user:{user_id}"


def _device_key(persistent_id: str) -> str:
    return f"accounts:device:{persistent_id}"


def _membership_key(user_id: Any, tenant_id: Any) -> str:
    return f"accounts:membership:{user_id}:{tenant_id}"


def _cached(key: str, load: Callable[[], Any]) -> Any:
    value = cache_get(key)
    if value is None:
        value = load()
        if value is not None:
            cache_set(key, value, REQUEST_CACHE_SECONDS)
    return value


_TENANT_PATH = re.compile(r"^/t/(\d+)/")


class CachedModelBackend(ModelBackend):
    """Django's model backend, reading the signed-in user from the cache."""

    def get_user(self, user_id: Any) -> User | None:
        return _cached(
            _user_key(user_id), lambda: super(CachedModelBackend, self).get_user(user_id)
        )


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, reading the session's verified device from the cache (it
    still checks that the device is the user's and confirmed).

    It also reads the signed-in user, the device and the membership of the tenant in the
    path from the shared cache in one round trip, for the rest of the request."""

    def __call__(self, request):
        keys = []
        session = getattr(request, "session", None)
        user_id = session.get(SESSION_KEY) if session is not None else None
        if user_id is not None:
            keys.append(_user_key(user_id))
            device_id = session.get(DEVICE_ID_SESSION_KEY)
            if device_id:
                keys.append(_device_key(self._normalize_persistent_id(device_id)))
            tenant = _TENANT_PATH.match(request.path_info)
            if tenant:
                keys.append(_membership_key(user_id, int(tenant[1])))
        with cache_read_once(keys):
            return super().__call__(request)

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        persistent_id = self._normalize_persistent_id(persistent_id)
        return _cached(_device_key(persistent_id), lambda: Device.from_persistent_id(persistent_id))


def membership_cached(*, user: User, tenant_id: int) -> tuple[Tenant, str] | None:
    """The tenant and the user's role in it when the user is an active member, else None."""

    def load() -> tuple[Tenant, str] | str:
        with scopes_disabled():
            membership = (
                Membership.objects.select_related("tenant")
                .filter(user=user, tenant_id=tenant_id, is_active=True)
                .first()
            )
        return _NOT_A_MEMBER if membership is None else (membership.tenant, membership.role)

    found = _cached(_membership_key(user.pk, tenant_id), load)
    return None if found == _NOT_A_MEMBER else found


def user_changed(instance: User, **_kwargs: Any) -> None:
    cache_forget([_user_key(instance.pk)])


def device_changed(instance: Device, **_kwargs: Any) -> None:
    cache_forget([_device_key(instance.persistent_id)])


def membership_changed(instance: Membership, **_kwargs: Any) -> None:
    cache_forget([_membership_key(instance.user_id, instance.tenant_id)])


def rows_updated(sender: type, ids: list[Any], **_kwargs: Any) -> None:
    """A queryset's update() changed users or memberships (no save signals were sent)."""
    if sender is User:
        cache_forget([_user_key(user_id) for user_id in ids])
    elif sender is Membership:
        with scopes_disabled():
            pairs = Membership.objects.filter(pk__in=ids).values_list("user_id", "tenant_id")
            cache_forget([_membership_key(user_id, tenant_id) for user_id, tenant_id in pairs])


def tenant_changed(instance: Tenant, **_kwargs: Any) -> None:
    with scopes_disabled():
        user_ids = Membership.objects.filter(tenant_id=instance.pk).values_list(
            "user_id", flat=True
        )
        cache_forget([_membership_key(user_id, instance.pk) for user_id in user_ids])
