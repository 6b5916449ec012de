"""Scoping of the rows that belong to a tenant or to a partner organisation: billing's (an
invoice's recipient, a partner that pays its customers' orders, DESIGN §3.8) and the e-mail
outbox's (accounts/outbox.py; a message of neither, e.g. a password reset, shows only with
scopes disabled).

``BuyerScopedManager`` is ``django_scopes.ScopedManager(tenant="tenant")`` with a second way
in, the ``partner`` scope dimension (``partner_scope``):

- in a tenant's scope (``scope(tenant=...)``, every tenant page, API view and task) it shows
  the tenant's rows and never a partner's: ``tenant`` matches and ``partner`` is empty. An
  invoice line of a partner's consolidated invoice names the customer in ``tenant`` (the
  invoice groups its lines by it) and the partner in ``partner``, so the customer's scope
  does not show it either;
- in a partner's scope (``partner_scope``) it shows the partner's rows only;
- with no scope at all it fails closed like ``ScopedManager`` (a query raises
  ``ScopeError``), and ``scopes_disabled()`` shows everything (runs, relays, operators).

``partner_scope`` sets the tenant dimension to no tenant (``[]``), so a tenant-owned model
queried by mistake inside it returns nothing instead of every tenant's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django_scopes import get_scope, scope
from django_scopes.manager import DisabledQuerySet

PARTNER = "partner"
TENANT = "tenant"


def _filter(current: dict[str, Any]) -> dict[str, Any] | None:
    """The filter of the current scope; None when the scope names no recipient."""
    tenant = current.get(TENANT, ...)
    partner = current.get(PARTNER)
    if tenant not in (..., []) and tenant is not None:
        key = "tenant__in" if isinstance(tenant, list | tuple) else "tenant"
        return {key: tenant, "partner__isnull": True}
    if partner is not None:
        return {"partner": partner}
    if tenant is None:
        # scope(tenant=None): every tenant, as ScopedManager reads it.
        return {}
    if tenant == []:
        return {"pk__in": []}
    return None


class BuyerScopedManager(models.Manager):
    """The manager of rows owned by a tenant or a partner (see the module docstring)."""

    def get_queryset(self) -> models.QuerySet:
        current = get_scope()
        if not current.get("_enabled", True):
            return super().get_queryset()
        lookup = _filter(current)
        if lookup is None:
            return DisabledQuerySet(self.model, using=self._db, missing_scopes=[TENANT, PARTNER])
        return super().get_queryset().filter(**lookup)

    def with_scopes_disabled(self) -> models.QuerySet:
        return super().get_queryset()


@contextmanager
def partner_scope(partner: Any) -> Iterator[None]:
    """Act for a partner organisation: its invoices, billing details and contacts."""
    partner_pk = int(getattr(partner, "pk", partner))
    with scope(partner=partner_pk, tenant=[]):
        yield


@contextmanager
def recipient_scope(*, tenant_id: int | None, partner_id: int | None) -> Iterator[None]:
    """The scope of an invoice's recipient, whichever kind it is."""
    if partner_id is not None:
        with partner_scope(partner_id):
            yield
    else:
        with scope(tenant=int(tenant_id)):
            yield
