"""What accounts, the ground floor, asks of the apps above it.

Accounts knows tenants, users and memberships, not subscriptions, invoices or connections.
Where one of its pages or rules needs those, the app that owns them registers a hook here
from its ``AppConfig.ready``: accounts calls the hook and never imports the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import Tenant, User


@dataclass(frozen=True)
class PageSection:
    """One value a page shows, read by the app that owns it.

    ``name`` is the template's context variable; ``roles`` the tenant roles that see it (an
    empty set: every role); ``read`` gets the request (on a tenant page ``request.tenant`` is
    set, inside the tenant's scope)."""

    page: str
    name: str
    read: Callable[[HttpRequest], Any]
    roles: frozenset[str] = frozenset()


_sections: dict[tuple[str, str], PageSection] = {}


def page_section_register(
    *,
    page: str,
    name: str,
    read: Callable[[HttpRequest], Any],
    roles: frozenset[str] = frozenset(),
) -> None:
    """Add a value to a page (``"tenant_home"``, ``"tenant_users"``, ``"operator_home"``)."""
    _sections[(page, name)] = PageSection(page=page, name=name, read=read, roles=roles)


def page_sections_read(*, page: str, request: HttpRequest) -> dict[str, Any]:
    """The registered values of ``page`` that the request's role may see, by name (pages
    outside a tenant show every section: their view decides who enters)."""
    role = getattr(request, "tenant_role", None)
    return {
        section.name: section.read(request)
        for section in _sections.values()
        if section.page == page and (not section.roles or role in section.roles)
    }


JoiningLicence = Callable[["Tenant", "User"], bool]
_joining_licence: list[JoiningLicence] = []


def joining_licence_register(policy: JoiningLicence) -> None:
    """Set the rule that decides whether a user joining a tenant takes a licence (the seat
    limit belongs to subscriptions, which registers it)."""
    _joining_licence[:] = [policy]


def joining_user_licensed(*, tenant: Tenant, user: User) -> bool:
    """Whether ``user``, joining ``tenant`` now, is active (takes a licence). Without a
    registered rule nobody joins: a missing seat limit must never let users in for free."""
    if not _joining_licence:
        raise RuntimeError("No licence rule is registered for joining users.")
    return _joining_licence[0](tenant, user)


TenantCreated = Callable[["Tenant"], None]
_tenant_created: list[TenantCreated] = []


def tenant_created_register(receiver: TenantCreated) -> None:
    """Run ``receiver(tenant)`` for every new company, in the transaction that creates it
    (``accounts.services.tenant_create``): records gives it its default invoice statuses."""
    if receiver not in _tenant_created:
        _tenant_created.append(receiver)


def tenant_created(*, tenant: Tenant) -> None:
    """Tell the registered apps of a new company."""
    for receiver in _tenant_created:
        receiver(tenant)
