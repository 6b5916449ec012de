"""The customer's answer to a partner's activation (DESIGN §3.2, §3.8): its administrator
approves by a link with the terms, or declines."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.mail import mail_enqueue
from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Membership,
    Role,
    Tenant,
    User,
)
from accounts.services import partner_user_emails
from accounts.tenancy import tenant_scope
from billing.models import SellerEntity, TermsAcceptance
from billing.terms import terms_accept, terms_current
from partners.models import ActivationStatus, InvoiceRecipient, PartnerActivation
from partners.selectors import activation_seller
from partners.services.activation_status import activation_status_move
from severa import clock
from severa.periods import period_starting
from subscriptions.catalog import price_book
from subscriptions.pricebook import QuoteError
from subscriptions.services import subscription_create


def agreement_end_for(*, start: datetime.date, months: int) -> datetime.date:
    """The agreement's last day: start + months − 1 day (periods start on a 1st, so the same
    stepping as the billing periods gets month lengths and leap years right)."""
    return period_starting(start, months).end


def activation_approve(
    *, activation: PartnerActivation, actor: User, terms_accepted: bool
) -> PartnerActivation:
    """The customer's administrator approves: the terms acceptance is recorded, the
    collaboration becomes active and, for a customer without one, the subscription starts
    (its first period on the 1st of this month, §3.2; the agreement ends ``agreement_months``
    later less a day; the partner is its invoice recipient where it pays)."""
    tenant = activation.tenant
    with tenant_scope(tenant), transaction.atomic():
        activation = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        if activation.status != ActivationStatus.PENDING or activation.expires_at <= clock.now():
            raise ValidationError(_("This activation is no longer waiting for approval."))
        if not Membership.objects.filter(
            tenant=tenant, user=actor, role=Role.ADMIN, is_active=True
        ).exists():
            raise ValidationError(
                _("Only an administrator of %(tenant)s can approve this.") % {"tenant": tenant.name}
            )
        if not terms_accepted:
            raise ValidationError({"accept_terms": [_("Accept the terms to approve.")]})
        seller = activation_seller(activation=activation)
        if seller is not None:
            _terms_record(tenant=tenant, seller=seller, user=actor)
        now = clock.now()
        collaboration = Collaboration.objects.select_for_update().get(
            pk=activation.collaboration_id
        )
        if collaboration.status == CollaborationStatus.ENDED:
            raise ValidationError(_("This collaboration has ended."))
        collaboration.status = CollaborationStatus.ACTIVE
        collaboration.save(update_fields=["status"])
        if activation.sells_subscription:
            start = clock.today().replace(day=1)
            try:
                subscription = subscription_create(
                    tenant=tenant,
                    seller=activation.seller,
                    currency=activation.currency,
                    edition=activation.edition,
                    seats=activation.seats,
                    storage_gb=price_book(currency=activation.currency, on=start)
                    .edition(activation.edition)
                    .included_storage_gb,
                    period_months=activation.agreement_months,
                    first_period_start=start,
                    actor=actor,
                    agreement_end=agreement_end_for(
                        start=start, months=activation.agreement_months
                    ),
                    invoice_partner=(
                        activation.partner
                        if activation.invoice_recipient == InvoiceRecipient.PARTNER
                        else None
                    ),
                )
            except QuoteError as error:
                raise ValidationError(error.message) from None
            activation.subscription = subscription
        activation_status_move(
            activation=activation,
            to=ActivationStatus.APPROVED,
            actor=actor,
            fields={
                "approved_by": actor,
                "approved_at": now,
                "subscription": activation.subscription,
            },
        )
        _activation_answered(activation, outcome="approved")
    return activation


def activation_decline(*, activation: PartnerActivation, actor: User) -> PartnerActivation:
    """The customer's administrator declines: the activation is closed, a collaboration that
    was waiting only for it ends (the partner never had access), and the partner is told."""
    tenant = activation.tenant
    with tenant_scope(tenant), transaction.atomic():
        activation = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        if activation.status != ActivationStatus.PENDING or activation.expires_at <= clock.now():
            raise ValidationError(_("This activation is no longer waiting for approval."))
        if not Membership.objects.filter(
            tenant=tenant, user=actor, role=Role.ADMIN, is_active=True
        ).exists():
            raise ValidationError(
                _("Only an administrator of %(tenant)s can decline this.") % {"tenant": tenant.name}
            )
        collaboration = Collaboration.objects.select_for_update().get(
            pk=activation.collaboration_id
        )
        if collaboration.status == CollaborationStatus.PENDING:
            collaboration.status = CollaborationStatus.ENDED
            collaboration.ended_at = clock.now()
            collaboration.save(update_fields=["status", "ended_at"])
        activation_status_move(activation=activation, to=ActivationStatus.DECLINED, actor=actor)
        _activation_answered(activation, outcome="declined")
    return activation


def _activation_answered(activation: PartnerActivation, *, outcome: str) -> None:
    """The customer's answer (`approved` or `declined`, audited by the move) to the
    partner's users."""
    tenant = activation.tenant
    mail_enqueue(
        to=partner_user_emails(partner=activation.partner),
        template=f"partner_activation_{outcome}",
        context={"tenant": tenant.name, "partner": activation.partner.name},
        partner=activation.partner,
    )


def _terms_record(*, tenant: Tenant, seller: SellerEntity, user: User) -> TermsAcceptance:
    terms = terms_current(seller=seller)
    if terms is not None:
        return terms_accept(tenant=tenant, terms=terms, user=user)
    acceptance, _created = TermsAcceptance.objects.get_or_create(
        tenant=tenant,
        seller=seller,
        version=seller.terms_version,
        defaults={
            "user": user,
            "accepted_by": user.email or user.username,
            "accepted_at": clock.now(),
        },
    )
    return acceptance
