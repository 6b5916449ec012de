"""The one tenancy mechanism.

``tenant_access`` decides whether a user may act for a tenant, and in which role. Web views
(``tenant_view``), API views (``TenantScopedAPIMixin``) and Celery tasks (``TenantTask``) all
enter ``django_scopes.scope(tenant=...)`` with its answer, and every tenant-owned model has a
``ScopedManager(tenant="tenant")``: a query on such a model with no tenant in scope raises
``ScopeError`` instead of returning every tenant's rows.

A tenant the user cannot act for answers 404, never 403, so ids leak nothing.
"""

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from celery import Task
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django_scopes import scope, scopes_disabled

from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Membership,
    Partner,
    PartnerMembership,
    Role,
    Tenant,
    User,
)
from accounts.request_cache import membership_cached

OPERATOR = "operator"
PARTNER = "partner"
# Roles that may manage a tenant's subscription, users and integrations.
MANAGING_ROLES = frozenset({Role.ADMIN, PARTNER, OPERATOR})
BILLING_ROLES = frozenset({Role.ADMIN, Role.BILLING, PARTNER, OPERATOR})


@dataclass(frozen=True)
class TenantAccess:
    tenant: Tenant
    role: str

    @property
    def role_label(self) -> str:
        """The role as its reader calls it (the role's code is for the program)."""
        if self.role == PARTNER:
            return gettext("Partner")
        if self.role == OPERATOR:
            return gettext("Operator")
        return str(Role(self.role).label)


def tenant_access(*, user: User, tenant_id: Any) -> TenantAccess:
    """The user's access to a tenant, or Http404 when it has none (or the id is not one)."""
    try:
        tenant_pk = int(tenant_id)
    except (TypeError, ValueError):
        raise Http404("No such tenant.") from None
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such tenant.")
    if not user.is_operator:
        # Members, the common case, from the request cache.
        membership = membership_cached(user=user, tenant_id=tenant_pk)
        if membership is not None:
            return TenantAccess(tenant=membership[0], role=membership[1])
    tenant = Tenant.objects.filter(pk=tenant_pk).first()
    if tenant is None:
        raise Http404("No such tenant.")
    if user.is_operator:
        return TenantAccess(tenant=tenant, role=OPERATOR)
    with scope(tenant=tenant.pk):
        if Collaboration.objects.filter(
            status=CollaborationStatus.ACTIVE,
            partner__memberships__user=user,
            partner__memberships__is_active=True,
        ).exists():
            return TenantAccess(tenant=tenant, role=PARTNER)
    raise Http404("No such tenant.")


def partner_access(*, user: User, partner_id: Any) -> Partner:
    """The partner organisation the user acts for, or Http404."""
    try:
        partner_pk = int(partner_id)
    except (TypeError, ValueError):
        raise Http404("No such partner.") from None
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such partner.")
    partners = Partner.objects.filter(pk=partner_pk)
    if not user.is_operator:
        partners = partners.filter(memberships__user=user, memberships__is_active=True)
    partner = partners.first()
    if partner is None:
        raise Http404("No such partner.")
    return partner


def tenants_for_user(user: User) -> list[TenantAccess]:
    """Every tenant the user acts for, with its role (operators: none listed here)."""
    if not user.is_authenticated:
        return []
    accesses: dict[int, TenantAccess] = {}
    with scopes_disabled():
        memberships = Membership.objects.filter(user=user, is_active=True).select_related("tenant")
        for membership in memberships:
            accesses[membership.tenant_id] = TenantAccess(membership.tenant, membership.role)
        partner_ids = PartnerMembership.objects.filter(user=user, is_active=True).values(
            "partner_id"
        )
        collaborations = Collaboration.objects.filter(
            partner_id__in=partner_ids, status=CollaborationStatus.ACTIVE
        ).select_related("tenant")
        for collaboration in collaborations:
            accesses.setdefault(
                collaboration.tenant_id, TenantAccess(collaboration.tenant, PARTNER)
            )
    return sorted(accesses.values(), key=lambda access: access.tenant.name)


def partners_for_user(user: User) -> list[Partner]:
    if not user.is_authenticated:
        return []
    return list(Partner.objects.filter(memberships__user=user, memberships__is_active=True))


@contextmanager
def tenant_scope(tenant: Tenant | int) -> Iterator[None]:
    """Act for one tenant (management commands, scripts, tests)."""
    tenant_pk = tenant.pk if isinstance(tenant, Tenant) else int(tenant)
    with scope(tenant=tenant_pk):
        yield


def tenant_view(*roles: str) -> Callable:
    """Decorate a view whose URL carries ``tenant_id``.

    The view runs inside the tenant's scope with ``request.tenant`` and ``request.tenant_role``
    set; a tenant the user cannot act for is a 404; a role not in ``roles`` is a 403.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, tenant_id: int, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            access = tenant_access(user=request.user, tenant_id=tenant_id)
            if roles and access.role not in roles:
                raise PermissionDenied
            request.tenant = access.tenant
            request.tenant_role = access.role
            with scope(tenant=access.tenant.pk):
                response = view(request, *args, **kwargs)
                # Lazy responses must render while the scope is still active.
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        wrapped.tenant_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


class TenantScopedAPIMixin:
    """For DRF views under ``/api/v1/tenants/{tenant_id}/``: authenticate, resolve the
    tenant with ``tenant_access`` (404 when foreign) and run the handler inside its scope."""

    tenant_roles: frozenset[str] | None = None

    def dispatch(self, request, *args, **kwargs):
        self._tenant_scope = ExitStack()
        with self._tenant_scope:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        access = tenant_access(user=request.user, tenant_id=kwargs.get("tenant_id"))
        if self.tenant_roles is not None and access.role not in self.tenant_roles:
            raise PermissionDenied
        self.tenant = access.tenant
        self.tenant_role = access.role
        self._tenant_scope.enter_context(scope(tenant=access.tenant.pk))


class TenantTask(Task):
    """A Celery task that acts for one tenant, named by its ``tenant_id`` keyword argument.

    The scope is entered for the task body only and restored afterwards, so a worker thread
    never carries one task's tenant into the next.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise ValueError(f"{self.name} needs a tenant_id keyword argument")
        with scope(tenant=int(tenant_id)):
            return super().__call__(*args, **kwargs)
