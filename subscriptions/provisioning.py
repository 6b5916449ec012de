"""Provisioning: an operator creates a tenant with its first subscription in one go.

The tenant, the administrator's invitation, the subscription and its activation order are
created in one transaction: a refusal anywhere leaves nothing behind (no tenant without a
subscription, no invitation e-mail for a tenant that does not exist, since e-mails are sent
after the commit).

Everything the price book decides (what is sold in the currency when the first period
starts, what the edition allows, which storage sizes exist, how many seats) is checked before
anything is written, field by field (`PriceBook.selection_refusals`), so the caller can answer
each field with its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Invitation, Role, Tenant, User
from accounts.services import invitation_create, tenant_create
from accounts.tenancy import tenant_scope
from severa import clock
from severa.periods import Period
from subscriptions.catalog import price_book
from subscriptions.models import OrderConfirmation, OrderKind, Subscription
from subscriptions.pricebook import QuoteError
from subscriptions.services import first_period, seller_currency_check, subscription_create

if TYPE_CHECKING:
    # The seller is billing's model; a subscription only refers to it.
    from billing.models import SellerEntity


@dataclass(frozen=True)
class Provisioned:
    tenant: Tenant
    subscription: Subscription
    order: OrderConfirmation
    invitation: Invitation


def provisioning_errors(
    *,
    seller: SellerEntity,
    currency: str,
    edition: str,
    seats: int | None = None,
    storage_gb: int | None,
    add_ons: frozenset[str],
    interfaces: frozenset[str],
    period: Period,
) -> dict[str, list[str]]:
    """Per field, why this selection cannot be sold (empty when it can): the seller's bank
    accounts decide the currency, the price book of `currency` on the period's first day the
    rest (`PriceBook.selection_refusals`)."""
    errors: dict[str, list[str]] = {}
    try:
        seller_currency_check(seller=seller, currency=currency)
    except QuoteError as error:
        errors["currency"] = [error.message]
    refusals = price_book(currency=currency, on=period.start).selection_refusals(
        edition=edition,
        seats=seats,
        storage_gb=storage_gb,
        add_ons=add_ons,
        interfaces=interfaces,
    )
    for field_name, field_errors in refusals.items():
        errors[field_name] = [error.message for error in field_errors]
    return errors


def tenant_provision(
    *,
    name: str,
    country: str,
    business_id: str,
    vat_number: str,
    language: str | None,
    admin_email: str,
    seller: SellerEntity,
    currency: str,
    edition: str,
    seats: int,
    storage_gb: int | None,
    add_ons: frozenset[str],
    interfaces: frozenset[str],
    period_months: int,
    first_period_start: date,
    actor: User,
) -> Provisioned:
    """Create a tenant, invite its administrator and give it a subscription.

    `storage_gb` None means the edition's included storage. Raises ValidationError (a dict
    of field name to messages) when the selection cannot be sold; nothing is written then.
    """
    period = first_period(
        first_period_start=first_period_start, period_months=period_months, today=clock.today()
    )
    errors = provisioning_errors(
        seller=seller,
        currency=currency,
        edition=edition,
        seats=seats,
        storage_gb=storage_gb,
        add_ons=add_ons,
        interfaces=interfaces,
        period=period,
    )
    if errors:
        raise ValidationError(errors)
    if storage_gb is None:
        storage_gb = (
            price_book(currency=currency, on=period.start).edition(edition).included_storage_gb
        )
    with transaction.atomic():
        tenant = tenant_create(
            name=name,
            country=country,
            business_id=business_id,
            vat_number=vat_number,
            language=language or "",
            actor=actor,
        )
        with tenant_scope(tenant):
            invitation, _token = invitation_create(
                tenant=tenant, email=admin_email, role=Role.ADMIN, actor=actor
            )
            try:
                subscription = subscription_create(
                    tenant=tenant,
                    seller=seller,
                    currency=currency,
                    edition=edition,
                    seats=seats,
                    storage_gb=storage_gb,
                    add_ons=add_ons,
                    interfaces=interfaces,
                    period_months=period_months,
                    first_period_start=first_period_start,
                    actor=actor,
                )
            except QuoteError as error:
                # Checked above; a rule the checks above do not know of still refuses cleanly.
                raise ValidationError(error.message) from None
            order = OrderConfirmation.objects.get(
                subscription=subscription, kind=OrderKind.ACTIVATION
            )
    return Provisioned(tenant, subscription, order, invitation)
