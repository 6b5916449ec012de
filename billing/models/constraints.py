"""Constraints several of billing's models share."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def tenant_xor_partner(name: str) -> models.CheckConstraint:
    """A row belongs to a tenant or to a partner organisation, never both or neither."""
    return models.CheckConstraint(
        name=name,
        condition=Q(tenant__isnull=False, partner__isnull=True)
        | Q(tenant__isnull=True, partner__isnull=False),
    )
