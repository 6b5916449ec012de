"""E-mailed invoice links (DESIGN §3.7; RELIABILITY.md "Links, accounts and sessions").

A link is a random token (`accounts.secrets.token_new`: 256 bits) per invoice and recipient.
Only the token's SHA-256 is stored, so a copy of the database opens nothing. A link expires
(`INVOICE_LINK_VALID_DAYS`, 180 by default) and is revoked when its billing contact is
removed. It shows the invoice and its stored PDF to whoever holds it, read-only: no session,
no sign-in, no password, never a login form. Every opening is logged.

An unknown, tampered, expired or revoked token gets the same answer (`invoice_link_find`
returns None for all four), so trying tokens tells nothing about which ones exist.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.secrets import token_hash, token_new
from billing.models import BillingContact, Invoice, InvoiceLink, InvoiceLinkView
from severa import clock

DEFAULT_VALID_DAYS = 180
# token_new() gives 43 characters; anything much longer is not a token and is not hashed.
TOKEN_MAX_LENGTH = 100
USER_AGENT_MAX_LENGTH = InvoiceLinkView._meta.get_field("user_agent").max_length


def invoice_link_valid_days() -> int:
    return int(getattr(settings, "INVOICE_LINK_VALID_DAYS", DEFAULT_VALID_DAYS))


def invoice_link_create(
    *, invoice: Invoice, contact: BillingContact | None, email: str
) -> tuple[InvoiceLink, str]:
    """A new link for `email`, and its token (returned once, never stored). Call inside the
    transaction that also writes the message carrying it."""
    token = token_new()
    now = clock.now()
    link = InvoiceLink.objects.create(
        tenant_id=invoice.tenant_id,
        partner_id=invoice.partner_id,
        invoice=invoice,
        contact=contact,
        email=email.strip().lower(),
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=invoice_link_valid_days()),
    )
    return link, token


def invoice_link_url(token: str) -> str:
    return settings.SITE_URL + reverse("invoice_link", args=[token])


def invoice_link_find(*, token: str) -> InvoiceLink | None:
    """The valid link behind a token; None when the token is unknown, tampered with,
    expired or revoked (alike, on purpose)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    # The token is the only credential: look it up across tenants, then act in its tenant.
    with scopes_disabled():
        link = InvoiceLink.objects.filter(token_hash=token_hash(token), revoked_at=None).first()
    if link is None or link.expires_at <= clock.now():
        return None
    return link


def invoice_link_view_record(
    *, link: InvoiceLink, kind: str, ip: str | None, user_agent: str
) -> InvoiceLinkView:
    return InvoiceLinkView.objects.create(
        tenant_id=link.tenant_id,
        partner_id=link.partner_id,
        link=link,
        kind=kind,
        viewed_at=clock.now(),
        ip=ip or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )


def invoice_links_revoke(*, contact: BillingContact) -> int:
    """Revoke every open link of a billing contact (it is being removed); returns how many.
    Call inside the contact's tenant scope and the removal's transaction."""
    return InvoiceLink.objects.filter(
        tenant_id=contact.tenant_id, partner_id=contact.partner_id, contact=contact, revoked_at=None
    ).update(revoked_at=clock.now())
