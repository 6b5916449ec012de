"""Who may call a view beyond what a tenant's or a partner's roles decide
(`accounts.tenancy.TenantScopedAPIMixin`, `accounts.tenancy.partner_access`)."""

from rest_framework.permissions import BasePermission


class IsOperator(BasePermission):
    """Operators (the vendor's staff, `user.is_operator`) only; others get 403."""

    message = "Only operators may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_operator)
