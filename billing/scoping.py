"""Billing's rows belong to a tenant or a partner organisation: their manager and scopes are
``accounts.scoping``'s (the e-mail outbox, in accounts, is scoped the same way). Billing's
modules keep importing them from here."""

from accounts.scoping import BuyerScopedManager, partner_scope, recipient_scope

__all__ = ["BuyerScopedManager", "partner_scope", "recipient_scope"]
