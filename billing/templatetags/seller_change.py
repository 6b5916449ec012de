"""``{% seller_change_prompt %}``: the prompt a company's admins see after a seller change
(billing/seller_change.py), on the company's front page and its Billing page."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Role
from billing.seller_change import seller_change_review_pending

register = template.Library()


@register.inclusion_tag("billing/_seller_change_prompt.html", takes_context=True)
def seller_change_prompt(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(request, "tenant_role", None) != Role.ADMIN:
        return {"item": None}
    return {
        "item": seller_change_review_pending(tenant=tenant),
        "tenant": tenant,
        "request": request,
    }
