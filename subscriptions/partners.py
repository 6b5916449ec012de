"""Partners (DESIGN §3.8): engagements, the three ways to activate a collaboration, the
customer's approval by a link with the terms, invitations from a customer to a partner, and
ending a collaboration.

Access is decided by the callers (``accounts.tenancy.partner_access`` for the partner,
``tenant_view``/``TenantScopedAPIMixin`` for the customer's admins); these functions check
what only they can know: that an engagement is the partner's, that the approving user is an
administrator of the customer, that a token is open. Refusals raise ``ValidationError``
(a dict of field name to messages where a field is to blame) and write nothing; e-mails are
sent after the commit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounts.mail import mail_enqueue
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
from accounts.secrets import token_hash, token_new
from accounts.services import audit_record, invitation_create, tenant_admin_emails
from accounts.tenancy import tenant_scope
from billing.identifiers import IdentifierError, business_id_clean, vat_number_clean
from billing.models import SellerEntity, TermsAcceptance
from billing.periods import period_starting
from severa import clock
from subscriptions.catalog import price_book
from subscriptions.models import (
    ActivationScenario,
    ActivationStatus,
    Engagement,
    InvoiceRecipient,
    PartnerActivation,
    PartnerInvitation,
    Subscription,
)
from subscriptions.pricebook import QuoteError
from subscriptions.provisioning import LANGUAGE_BY_COUNTRY

# The currency a new partner-activated subscription is sold in, by the customer's country.
CURRENCY_BY_COUNTRY = {"FI": "EUR", "SE": "SEK", "NO": "NOK", "DK": "DKK"}
AGREEMENT_MONTHS_CHOICES = (3, 12)
ACTIVATION_VALID_DAYS = 14


# Engagements.


def engagement_create(*, partner: Partner, name: str, customer: Tenant | None = None) -> Engagement:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"engagement": [_("Name the engagement.")]})
    return Engagement.objects.create(
        partner=partner, name=name, customer=customer, created_at=clock.now()
    )


def _engagement_for(*, partner: Partner, engagement: Engagement | int | str) -> Engagement:
    """The partner's engagement by row or id; another partner's is as unknown as none."""
    if isinstance(engagement, Engagement):
        engagement_id = engagement.pk
    else:
        try:
            engagement_id = int(engagement)
        except (TypeError, ValueError):
            raise ValidationError({"engagement": [_("Choose one of your engagements.")]}) from None
    found = Engagement.objects.filter(partner=partner, pk=engagement_id).first()
    if found is None:
        raise ValidationError({"engagement": [_("Choose one of your engagements.")]})
    return found


def _engagement_tie(*, engagement: Engagement, tenant: Tenant) -> None:
    """A collaboration needs an engagement tied to its customer: tie a free one, refuse one
    that belongs to another customer."""
    if engagement.customer_id is None:
        engagement.customer = tenant
        engagement.save(update_fields=["customer"])
    elif engagement.customer_id != tenant.pk:
        raise ValidationError({"engagement": [_("This engagement is tied to another customer.")]})


# The partner's customers.


@dataclass(frozen=True)
class PartnerCustomer:
    tenant: Tenant
    collaboration: Collaboration
    subscription: Subscription | None
    pending_activation: PartnerActivation | None

    @property
    def is_pending(self) -> bool:
        return self.collaboration.status == CollaborationStatus.PENDING

    @property
    def invoice_recipient(self) -> str:
        subscription = self.subscription
        if subscription is not None and subscription.invoice_partner_id is not None:
            return subscription.invoice_partner.name
        return self.tenant.name


def partner_customers(partner: Partner) -> list[PartnerCustomer]:
    """The customers the partner collaborates with or waits for (never any other tenant)."""
    with scopes_disabled():
        collaborations = list(
            Collaboration.objects.filter(
                partner=partner,
                status__in=[CollaborationStatus.PENDING, CollaborationStatus.ACTIVE],
            )
            .select_related("tenant")
            .order_by("tenant__name", "pk")
        )
        tenant_ids = [c.tenant_id for c in collaborations]
        subscriptions = {
            s.tenant_id: s
            for s in Subscription.objects.filter(tenant_id__in=tenant_ids).select_related(
                "edition", "invoice_partner"
            )
        }
        pending = {
            a.tenant_id: a
            for a in PartnerActivation.objects.filter(
                partner=partner, tenant_id__in=tenant_ids, status=ActivationStatus.PENDING
            )
        }
    return [
        PartnerCustomer(
            tenant=c.tenant,
            collaboration=c,
            subscription=subscriptions.get(c.tenant_id),
            pending_activation=pending.get(c.tenant_id),
        )
        for c in collaborations
    ]


def partner_customer(partner: Partner, tenant_id: object) -> PartnerCustomer:
    """One of the partner's customers, or ``Http404`` (another tenant is as unknown as none)."""
    from django.http import Http404

    try:
        tenant_pk = int(tenant_id)
    except (TypeError, ValueError):
        raise Http404("No such customer.") from None
    for customer in partner_customers(partner):
        if customer.tenant.pk == tenant_pk:
            return customer
    raise Http404("No such customer.")


# Activation (§3.8's three scenarios).


@dataclass(frozen=True)
class NewCustomer:
    name: str
    country: str
    business_id: str
    vat_number: str
    admin_name: str
    admin_email: str


def seller_for(country: str) -> tuple[SellerEntity, str]:
    """The seller entity and currency a new subscription of a company in ``country`` is
    sold by: the currency of the country (EUR elsewhere), a seller of the same country with a
    bank account in it first."""
    currency = CURRENCY_BY_COUNTRY.get(country, "EUR")
    sellers = SellerEntity.objects.filter(bank_accounts__currency=currency).distinct()
    seller = (
        sellers.filter(country=country).order_by("pk").first() or sellers.order_by("pk").first()
    )
    if seller is None:
        raise ValidationError(
            {"edition": [_("Nothing is sold in %(currency)s yet.") % {"currency": currency}]}
        )
    return seller, currency


def edition_name(code: str) -> str:
    from subscriptions.models import Edition

    return Edition.objects.filter(code=code).values_list("name", flat=True).first() or code


def agreement_end_for(start: datetime.date, months: int) -> datetime.date:
    """The agreement's last day: start + months − 1 day (periods start on a 1st, so the same
    stepping as the billing periods gets month lengths and leap years right)."""
    return period_starting(start, months).end


def _new_customer_clean(customer: NewCustomer) -> NewCustomer:
    errors: dict[str, list[str]] = {}
    country = (customer.country or "").strip().upper()
    if not customer.name.strip():
        errors["name"] = [_("Enter the company's name.")]
    if len(country) != 2 or not country.isalpha():
        errors["country"] = [_("Enter the country as a two-letter code, e.g. FI.")]
    business_id = vat_number = ""
    try:
        business_id = business_id_clean(country, customer.business_id)
    except IdentifierError as error:
        errors["business_id"] = [str(error)]
    try:
        vat_number = vat_number_clean(country, customer.vat_number)
    except IdentifierError as error:
        errors["vat_number"] = [str(error)]
    if not customer.admin_name.strip():
        errors["admin_name"] = [_("Enter the administrator's name.")]
    email = (customer.admin_email or "").strip().lower()
    if "@" not in email:
        errors["admin_email"] = [_("Enter the administrator's e-mail address.")]
    if errors:
        raise ValidationError(errors)
    return NewCustomer(
        name=customer.name.strip(),
        country=country,
        business_id=business_id,
        vat_number=vat_number,
        admin_name=customer.admin_name.strip(),
        admin_email=email,
    )


def _selection_clean(
    *,
    country: str,
    edition: str,
    seats: int | None,
    invoice_recipient: str,
    agreement_months: int | None,
) -> tuple[SellerEntity, str]:
    errors: dict[str, list[str]] = {}
    if invoice_recipient not in InvoiceRecipient.values:
        errors["invoice_recipient"] = [_("Choose the customer or the partner.")]
    if agreement_months not in AGREEMENT_MONTHS_CHOICES:
        errors["agreement_months"] = [_("The agreement period is 3 or 12 months.")]
    if seats is None or seats < 1:
        errors["seats"] = [_("At least one seat.")]
    seller, currency = seller_for(country)
    try:
        price_book(currency, clock.today().replace(day=1)).edition(edition or "")
    except QuoteError as error:
        errors["edition"] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return seller, currency


def activation_create(
    *,
    partner: Partner,
    engagement: Engagement | int | str,
    by: User,
    tenant: Tenant | None = None,
    customer: NewCustomer | None = None,
    edition: str = "",
    seats: int | None = None,
    invoice_recipient: str = InvoiceRecipient.CUSTOMER,
    agreement_months: int | None = None,
    idempotency_key: str = "",
) -> tuple[PartnerActivation, str | None]:
    """Activate a collaboration with an existing ``tenant`` or a new ``customer``.

    Returns the activation and its approval token (None when ``idempotency_key`` names an
    earlier activation of the partner, which is returned as it is). Nothing is active or
    charged until the customer's administrator approves.
    """
    if idempotency_key:
        earlier = (
            PartnerActivation.objects.with_scopes_disabled()
            .filter(partner=partner, idempotency_key=idempotency_key)
            .first()
        )
        if earlier is not None:
            return earlier, None
    if (tenant is None) == (customer is None):
        raise ValidationError(_("Name an existing customer or enter a new one, not both."))
    engagement = _engagement_for(partner=partner, engagement=engagement)
    if customer is not None:
        customer = _new_customer_clean(customer)
        scenario = ActivationScenario.NEW_CUSTOMER
        country = customer.country
    else:
        with tenant_scope(tenant):
            has_subscription = Subscription.objects.filter(tenant=tenant).exists()
        scenario = (
            ActivationScenario.EXISTING_SUBSCRIPTION
            if has_subscription
            else ActivationScenario.EXISTING_CUSTOMER
        )
        country = tenant.country
    seller, currency = None, ""
    if scenario == ActivationScenario.EXISTING_SUBSCRIPTION:
        # The customer keeps its edition, agreement and invoices: nothing is charged until
        # its renewal.
        edition, seats, agreement_months = "", None, None
        invoice_recipient = InvoiceRecipient.CUSTOMER
    else:
        seller, currency = _selection_clean(
            country=country,
            edition=edition,
            seats=seats,
            invoice_recipient=invoice_recipient,
            agreement_months=agreement_months,
        )
    token = token_new()
    now = clock.now()
    try:
        with transaction.atomic():
            admin_invitation = None
            if customer is not None:
                tenant = Tenant.objects.create(
                    name=customer.name,
                    country=customer.country,
                    business_id=customer.business_id,
                    vat_number=customer.vat_number,
                    language=LANGUAGE_BY_COUNTRY.get(customer.country, "en"),
                )
            engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
            _engagement_tie(engagement=engagement, tenant=tenant)
            with tenant_scope(tenant):
                collaboration = _collaboration_live(tenant=tenant, partner=partner)
                if collaboration is None:
                    collaboration = Collaboration.objects.create(
                        tenant=tenant,
                        partner=partner,
                        engagement=engagement.name,
                        status=CollaborationStatus.PENDING,
                    )
                elif (
                    collaboration.status == CollaborationStatus.ACTIVE
                    and scenario == ActivationScenario.EXISTING_SUBSCRIPTION
                ):
                    raise ValidationError(
                        _("You already collaborate with %(tenant)s.") % {"tenant": tenant.name}
                    )
                approve_path = reverse("partner_activation_approve", kwargs={"token": token})
                password_path = ""
                if customer is not None:
                    # The administrator is invited (sets a password through the link) and
                    # comes straight to the approval after that: one e-mail for both.
                    admin_invitation, invitation_token = invitation_create(
                        tenant=tenant,
                        email=customer.admin_email,
                        role=Role.ADMIN,
                        acting_user=by,
                        notify=False,
                    )
                    password_path = (
                        reverse("accounts:invitation_accept", kwargs={"token": invitation_token})
                        + "?"
                        + urlencode({"next": approve_path}, safe="/")
                    )
                activation = PartnerActivation.objects.create(
                    tenant=tenant,
                    partner=partner,
                    collaboration=collaboration,
                    engagement=engagement,
                    scenario=scenario,
                    edition=edition or "",
                    seats=seats,
                    invoice_recipient=invoice_recipient,
                    agreement_months=agreement_months,
                    seller=seller,
                    currency=currency,
                    admin_invitation=admin_invitation,
                    admin_name=customer.admin_name if customer is not None else "",
                    admin_email=customer.admin_email if customer is not None else "",
                    token_hash=token_hash(token),
                    expires_at=now + datetime.timedelta(days=ACTIVATION_VALID_DAYS),
                    idempotency_key=idempotency_key,
                    created_by=by,
                    created_at=now,
                )
                audit_record(
                    tenant=tenant,
                    actor=by,
                    action="partner.activation_created",
                    partner=partner.name,
                    scenario=scenario,
                    edition=edition or "",
                    seats=seats,
                    invoice_recipient=invoice_recipient,
                    agreement_months=agreement_months,
                )
                recipients = (
                    [customer.admin_email]
                    if customer is not None
                    else tenant_admin_emails(tenant=tenant)
                )
                mail_enqueue(
                    to=recipients,
                    template="partner_activation",
                    context={
                        "tenant": tenant.name,
                        "partner": partner.name,
                        "scenario": scenario,
                        "edition": edition_name(edition),
                        "seats": seats,
                        "agreement_months": agreement_months,
                        "invoice_recipient": invoice_recipient,
                        "admin_name": customer.admin_name if customer is not None else "",
                        "password_path": password_path,
                        "path": approve_path,
                        "expires_at": activation.expires_at.isoformat(),
                    },
                    language=tenant.language,
                )
    except IntegrityError:
        # Another pending activation for the pair, or the same key sent twice at once.
        if idempotency_key:
            earlier = (
                PartnerActivation.objects.with_scopes_disabled()
                .filter(partner=partner, idempotency_key=idempotency_key)
                .first()
            )
            if earlier is not None:
                return earlier, None
        raise ValidationError(
            _("An activation for this customer is already waiting for approval.")
        ) from None
    return activation, token


def _collaboration_live(*, tenant: Tenant, partner: Partner) -> Collaboration | None:
    return (
        Collaboration.objects.select_for_update()
        .filter(tenant=tenant, partner=partner)
        .exclude(status=CollaborationStatus.ENDED)
        .first()
    )


def activation_find(*, token: str) -> PartnerActivation | None:
    """The pending activation behind a token, or None (unknown, done, cancelled, expired)."""
    with scopes_disabled():
        activation = (
            PartnerActivation.objects.select_related("tenant", "partner", "seller")
            .filter(token_hash=token_hash(token), status=ActivationStatus.PENDING)
            .first()
        )
    if activation is None or activation.expires_at <= clock.now():
        return None
    return activation


def activation_seller(activation: PartnerActivation) -> SellerEntity | None:
    """Whose terms the customer accepts: the new subscription's seller, or its current one."""
    if activation.seller is not None:
        return activation.seller
    with tenant_scope(activation.tenant):
        subscription = Subscription.objects.filter(tenant=activation.tenant).first()
    return subscription.seller if subscription is not None else None


def activation_approve(
    *, activation: PartnerActivation, user: User, terms_accepted: bool
) -> PartnerActivation:
    """The customer's administrator approves: the terms acceptance is recorded, the
    collaboration becomes active and, for a customer without one, the subscription starts
    (its first period on the 1st of this month, §3.2; the agreement ends ``agreement_months``
    later less a day; the partner is its invoice recipient where it pays)."""
    from subscriptions.services import subscription_create

    tenant = activation.tenant
    with tenant_scope(tenant), transaction.atomic():
        activation = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        if activation.status != ActivationStatus.PENDING or activation.expires_at <= clock.now():
            raise ValidationError(_("This activation is no longer waiting for approval."))
        if not Membership.objects.filter(
            tenant=tenant, user=user, role=Role.ADMIN, is_active=True
        ).exists():
            raise ValidationError(
                _("Only an administrator of %(tenant)s can approve this.") % {"tenant": tenant.name}
            )
        if not terms_accepted:
            raise ValidationError({"accept_terms": [_("Accept the terms to approve.")]})
        seller = activation_seller(activation)
        if seller is not None:
            _terms_record(tenant=tenant, seller=seller, user=user)
        now = clock.now()
        collaboration = Collaboration.objects.select_for_update().get(
            pk=activation.collaboration_id
        )
        if collaboration.status == CollaborationStatus.ENDED:
            raise ValidationError(_("This collaboration has ended."))
        collaboration.status = CollaborationStatus.ACTIVE
        collaboration.save(update_fields=["status"])
        if activation.scenario != ActivationScenario.EXISTING_SUBSCRIPTION:
            start = clock.today().replace(day=1)
            try:
                subscription = subscription_create(
                    tenant=tenant,
                    seller=activation.seller,
                    currency=activation.currency,
                    edition=activation.edition,
                    seats=activation.seats,
                    storage_gb=price_book(activation.currency, start)
                    .edition(activation.edition)
                    .included_storage_gb,
                    period_months=activation.agreement_months,
                    first_period_start=start,
                    by=user,
                    agreement_end=agreement_end_for(start, activation.agreement_months),
                    invoice_partner=(
                        activation.partner
                        if activation.invoice_recipient == InvoiceRecipient.PARTNER
                        else None
                    ),
                )
            except QuoteError as error:
                raise ValidationError(str(error)) from None
            activation.subscription = subscription
        activation.status = ActivationStatus.APPROVED
        activation.approved_by = user
        activation.approved_at = now
        activation.save(update_fields=["status", "approved_by", "approved_at", "subscription"])
        audit_record(
            tenant=tenant,
            actor=user,
            action="partner.activation_approved",
            partner=activation.partner.name,
            scenario=activation.scenario,
        )
        mail_enqueue(
            to=partner_user_emails(activation.partner),
            template="partner_activation_approved",
            context={"tenant": tenant.name, "partner": activation.partner.name},
        )
    return activation


def _terms_record(*, tenant: Tenant, seller: SellerEntity, user: User) -> TermsAcceptance:
    from billing.terms import terms_accept, terms_current

    terms = terms_current(seller)
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


def activation_cancel(*, activation: PartnerActivation, by: User) -> PartnerActivation:
    """The partner withdraws an activation that is still waiting; the pending collaboration
    it opened ends with it."""
    with tenant_scope(activation.tenant), transaction.atomic():
        activation = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        if activation.status != ActivationStatus.PENDING:
            raise ValidationError(_("This activation is no longer waiting for approval."))
        activation.status = ActivationStatus.CANCELLED
        activation.save(update_fields=["status"])
        collaboration = Collaboration.objects.select_for_update().get(
            pk=activation.collaboration_id
        )
        if collaboration.status == CollaborationStatus.PENDING:
            collaboration.status = CollaborationStatus.ENDED
            collaboration.ended_at = clock.now()
            collaboration.save(update_fields=["status", "ended_at"])
        audit_record(tenant=activation.tenant, actor=by, action="partner.activation_cancelled")
    return activation


def partner_user_emails(partner: Partner) -> list[str]:
    return list(
        PartnerMembership.objects.filter(
            partner=partner, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )


# Ending a collaboration.


def collaboration_end(*, tenant: Tenant, partner: Partner, by: User) -> Collaboration:
    """Either side ends the collaboration: the partner's very next request for the tenant is
    a 404 (``tenant_access`` only counts active collaborations); waiting activations are
    cancelled with it."""
    with tenant_scope(tenant), transaction.atomic():
        collaboration = _collaboration_live(tenant=tenant, partner=partner)
        if collaboration is None:
            raise ValidationError(_("There is no collaboration to end."))
        collaboration.status = CollaborationStatus.ENDED
        collaboration.ended_at = clock.now()
        collaboration.save(update_fields=["status", "ended_at"])
        PartnerActivation.objects.filter(partner=partner, status=ActivationStatus.PENDING).update(
            status=ActivationStatus.CANCELLED
        )
        audit_record(
            tenant=tenant, actor=by, action="partner.collaboration_ended", partner=partner.name
        )
    return collaboration


# Invitations from a customer to a partner.


def partner_invitation_create(
    *, tenant: Tenant, by: User, partner_id: int | str | None = None, email: str = ""
) -> tuple[PartnerInvitation, str]:
    """A tenant admin invites a partner, named by its id or a partner user's e-mail; the
    e-mail goes to that user (or to every user of the partner)."""
    email = (email or "").strip().lower()
    partner = None
    if partner_id not in (None, ""):
        try:
            partner = Partner.objects.filter(pk=int(partner_id)).first()
        except (TypeError, ValueError):
            partner = None
    elif email:
        membership = (
            PartnerMembership.objects.filter(
                user__email__iexact=email, is_active=True, user__is_active=True
            )
            .select_related("partner")
            .first()
        )
        partner = membership.partner if membership is not None else None
    if partner is None:
        raise ValidationError(
            {"partner": [_("No partner has this id or a user with this e-mail address.")]}
        )
    recipients = [email] if email else partner_user_emails(partner)
    if not recipients:
        raise ValidationError({"partner": [_("This partner has no users to invite.")]})
    with tenant_scope(tenant), transaction.atomic():
        if (
            Collaboration.objects.filter(tenant=tenant, partner=partner)
            .exclude(status=CollaborationStatus.ENDED)
            .exists()
        ):
            raise ValidationError(
                {
                    "partner": [
                        _("%(partner)s already collaborates with you.") % {"partner": partner.name}
                    ]
                }
            )
        token = token_new()
        now = clock.now()
        invitation = PartnerInvitation.objects.create(
            tenant=tenant,
            partner=partner,
            email=recipients[0],
            token_hash=token_hash(token),
            invited_by=by,
            created_at=now,
            expires_at=now + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(tenant=tenant, actor=by, action="partner.invited", partner=partner.name)
        mail_enqueue(
            to=recipients,
            template="partner_invitation",
            context={
                "tenant": tenant.name,
                "partner": partner.name,
                "invited_by": by.get_full_name() or by.username,
                "path": reverse("partner_invitation_open", kwargs={"token": token}),
                "expires_at": invitation.expires_at.isoformat(),
            },
        )
    return invitation, token


def partner_invitation_find(*, token: str) -> PartnerInvitation | None:
    with scopes_disabled():
        invitation = (
            PartnerInvitation.objects.select_related("tenant", "partner")
            .filter(token_hash=token_hash(token), accepted_at=None, revoked_at=None)
            .first()
        )
    if invitation is None or invitation.expires_at <= clock.now():
        return None
    return invitation


def partner_invitations_open(partner: Partner) -> list[PartnerInvitation]:
    with scopes_disabled():
        return list(
            PartnerInvitation.objects.filter(
                partner=partner,
                accepted_at=None,
                revoked_at=None,
                expires_at__gt=clock.now(),
            ).select_related("tenant")
        )


def partner_invitation_accept(
    *,
    invitation: PartnerInvitation,
    user: User,
    engagement: Engagement | int | str | None = None,
    engagement_name: str = "",
) -> Collaboration:
    """A user of the invited partner accepts, choosing an engagement (or naming a new one)
    for the customer: the collaboration is active at once."""
    partner = invitation.partner
    if not PartnerMembership.objects.filter(partner=partner, user=user, is_active=True).exists():
        raise ValidationError(
            _("Only a user of %(partner)s can accept this.") % {"partner": partner.name}
        )
    tenant = invitation.tenant
    with tenant_scope(tenant), transaction.atomic():
        invitation = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= clock.now():
            raise ValidationError(_("This invitation is no longer valid."))
        if engagement not in (None, ""):
            chosen = _engagement_for(partner=partner, engagement=engagement)
        else:
            chosen = engagement_create(partner=partner, name=engagement_name, customer=tenant)
        chosen = Engagement.objects.select_for_update().get(pk=chosen.pk)
        _engagement_tie(engagement=chosen, tenant=tenant)
        collaboration = _collaboration_live(tenant=tenant, partner=partner)
        if collaboration is None:
            collaboration = Collaboration.objects.create(
                tenant=tenant,
                partner=partner,
                engagement=chosen.name,
                status=CollaborationStatus.ACTIVE,
            )
        else:
            collaboration.status = CollaborationStatus.ACTIVE
            collaboration.engagement = chosen.name
            collaboration.save(update_fields=["status", "engagement"])
        invitation.accepted_at = clock.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            tenant=tenant, actor=user, action="partner.invitation_accepted", partner=partner.name
        )
        mail_enqueue(
            to=tenant_admin_emails(tenant=tenant),
            template="partner_invitation_accepted",
            context={"tenant": tenant.name, "partner": partner.name},
            language=tenant.language,
        )
    return collaboration


def partner_invitations_of_tenant(tenant: Tenant) -> list[PartnerInvitation]:
    with tenant_scope(tenant):
        return list(
            PartnerInvitation.objects.filter(accepted_at=None, revoked_at=None).select_related(
                "partner"
            )
        )


def collaborations_of_tenant(tenant: Tenant) -> list[Collaboration]:
    with tenant_scope(tenant):
        return list(
            Collaboration.objects.exclude(status=CollaborationStatus.ENDED).select_related(
                "partner"
            )
        )


def activation_tenant(tenant_id: object) -> Tenant:
    """An existing customer named by its id for an activation (the customer's approval is
    what grants access, so naming a company reveals nothing of its data)."""
    try:
        tenant = Tenant.objects.filter(pk=int(tenant_id)).first()
    except (TypeError, ValueError):
        tenant = None
    if tenant is None:
        raise ValidationError({"tenant_id": [_("No customer has this id.")]})
    return tenant


# Partner organisations (operators).


def partner_create(
    *,
    name: str,
    country: str,
    business_id: str,
    user_name: str,
    user_email: str,
    by: User,
) -> tuple[Partner, User]:
    """A partner organisation with its first user, who gets an e-mail with a link to set a
    password (Django's one-time password-reset token)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    errors: dict[str, list[str]] = {}
    country = (country or "").strip().upper()
    email = (user_email or "").strip().lower()
    if not (name or "").strip():
        errors["name"] = [_("Enter the partner's name.")]
    if len(country) != 2 or not country.isalpha():
        errors["country"] = [_("Enter the country as a two-letter code, e.g. FI.")]
    try:
        business_id = business_id_clean(country, business_id)
    except IdentifierError as error:
        errors["business_id"] = [str(error)]
    if "@" not in email:
        errors["user_email"] = [_("Enter the user's e-mail address.")]
    elif User.objects.filter(email__iexact=email).exists():
        errors["user_email"] = [_("An account with this e-mail address exists already.")]
    if errors:
        raise ValidationError(errors)
    first_name, _space, last_name = (user_name or "").strip().partition(" ")
    with transaction.atomic():
        partner = Partner.objects.create(
            name=name.strip(), country=country, business_id=business_id
        )
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.save()
        PartnerMembership.objects.create(partner=partner, user=user)
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        mail_enqueue(
            to=[email],
            template="partner_welcome",
            context={"partner": partner.name, "path": path, "username": user.username},
        )
    return partner, user
