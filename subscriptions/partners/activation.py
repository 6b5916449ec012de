"""Activating a collaboration in the seed's three scenarios and the customer's approval by
a link with the terms (DESIGN §3.2, §3.8)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy
from django_scopes import scopes_disabled

from accounts.locale_format import country_time_zone
from accounts.mail import mail_enqueue
from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Membership,
    Partner,
    Role,
    Tenant,
    User,
)
from accounts.secrets import token_hash, token_new
from accounts.services import (
    LANGUAGE_BY_COUNTRY,
    audit_record,
    invitation_create,
    tenant_admin_emails,
)
from accounts.tenancy import tenant_scope
from billing.models import SellerEntity, TermsAcceptance
from severa import clock
from severa.errors import DomainError
from severa.identifiers import IdentifierError, business_id_clean, vat_number_clean
from severa.periods import period_starting
from subscriptions.catalog import price_book
from subscriptions.models import (
    ActivationScenario,
    ActivationStatus,
    Engagement,
    InvoiceRecipient,
    PartnerActivation,
    Subscription,
)
from subscriptions.partners.customers import (
    collaboration_live_locked,
    engagement_of_partner,
    engagement_tie,
    partner_user_emails,
)
from subscriptions.pricebook import QuoteError

# The currency a new partner-activated subscription is sold in, by the customer's country.
CURRENCY_BY_COUNTRY = {"FI": "EUR", "SE": "SEK", "NO": "NOK", "DK": "DKK"}
AGREEMENT_MONTHS_CHOICES = (3, 12)
ACTIVATION_VALID_DAYS = 14
# Each request e-mails the company's administrators and tells whether a business id and name
# match: a partner makes at most this many per clock hour (the refused ones count too).
ACTIVATION_REQUESTS_PER_HOUR = 20


class ActivationRateLimited(DomainError):
    """The partner made ``ACTIVATION_REQUESTS_PER_HOUR`` requests this hour already."""

    api_status = 429
    api_code = "throttled"
    messages = {
        "too_many_activations": ngettext_lazy(
            "Too many activation requests: at most %(limit)s an hour. "
            "Try again in %(count)s minute.",
            "Too many activation requests: at most %(limit)s an hour. "
            "Try again in %(count)s minutes.",
            "count",
        )
    }

    def __init__(self, code: str = "too_many_activations", /, *, retry_after: int) -> None:
        super().__init__(
            code,
            limit=ACTIVATION_REQUESTS_PER_HOUR,
            count=max(1, -(-retry_after // 60)),
            retry_after=retry_after,
        )

    @property
    def retry_after(self) -> int:
        """Seconds until the partner may ask again (the API's Retry-After)."""
        return self.params["retry_after"]


# Activation (§3.8's three scenarios).


@dataclass(frozen=True)
class NewCustomer:
    name: str
    country: str
    business_id: str
    vat_number: str
    admin_name: str
    admin_email: str


@dataclass(frozen=True)
class ExistingCustomer:
    """A company the partner names by what is on its letterhead, never by an internal id."""

    country: str
    business_id: str
    name: str


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
        errors["edition"] = [error.message]
    if errors:
        raise ValidationError(errors)
    return seller, currency


def _activation_request_count(partner: Partner) -> None:
    """Count one activation request of the partner in this clock hour; refuse it beyond the
    limit (a fixed window in the shared cache, so every web process counts together)."""
    now = int(clock.now().timestamp())
    key = f"partner-activation-requests:{partner.pk}:{now // 3600}"
    cache.add(key, 0, timeout=3600 + 60)
    if cache.incr(key) > ACTIVATION_REQUESTS_PER_HOUR:
        raise ActivationRateLimited(retry_after=3600 - now % 3600)


def _company_name_key(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def activation_tenant(company: ExistingCustomer) -> Tenant:
    """The existing company whose country, business id and name are all ``company``'s.

    A business id that is not found and one whose company has another name get the same
    answer, so a partner learns nothing about a company it cannot name completely."""
    country = (company.country or "").strip().upper()
    try:
        business_id = business_id_clean(country, company.business_id)
    except IdentifierError as error:
        raise ValidationError(str(error)) from None
    name = _company_name_key(company.name)
    if not business_id or not name:
        raise ValidationError(_("Enter the company's business id and name."))
    candidates = Tenant.objects.filter(country=country, business_id=business_id).order_by("pk")
    for tenant in candidates:
        if _company_name_key(tenant.name) == name:
            return tenant
    raise ValidationError(
        _(
            "No company has this business id and name. Check both as the company writes "
            "them, or activate it as a new customer."
        )
    )


def activation_create(
    *,
    partner: Partner,
    engagement: Engagement | int | str,
    by: User,
    tenant: Tenant | None = None,
    company: ExistingCustomer | None = None,
    customer: NewCustomer | None = None,
    edition: str = "",
    seats: int | None = None,
    invoice_recipient: str = InvoiceRecipient.CUSTOMER,
    agreement_months: int | None = None,
    idempotency_key: str = "",
) -> tuple[PartnerActivation, str | None]:
    """Activate a collaboration with an existing company (named as ``company``, or a
    ``tenant`` the caller has already found) or a new ``customer``.

    Returns the activation and its approval token (None when ``idempotency_key`` names an
    earlier activation of the partner, which is returned as it is). Nothing is active or
    charged until the customer's administrator approves. Each request counts towards the
    partner's hourly limit (``ActivationRateLimited`` beyond it).
    """
    if idempotency_key:
        earlier = (
            PartnerActivation.objects.with_scopes_disabled()
            .filter(partner=partner, idempotency_key=idempotency_key)
            .first()
        )
        if earlier is not None:
            return earlier, None
    _activation_request_count(partner)
    if sum(named is not None for named in (tenant, company, customer)) != 1:
        raise ValidationError(_("Name an existing customer or enter a new one, not both."))
    if company is not None:
        tenant = activation_tenant(company)
    engagement = engagement_of_partner(partner=partner, engagement=engagement)
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
    # Whether an existing company has a subscription is its own business until it approves:
    # the partner's selection is checked the same way either way (needed for a new company,
    # optional for an existing one) and kept as typed.
    if scenario == ActivationScenario.NEW_CUSTOMER or edition:
        seller, currency = _selection_clean(
            country=country,
            edition=edition,
            seats=seats,
            invoice_recipient=invoice_recipient,
            agreement_months=agreement_months,
        )
    else:
        # An existing company and nothing to sell: the collaboration alone.
        seats, agreement_months = None, None
    if scenario == ActivationScenario.EXISTING_SUBSCRIPTION:
        # The customer keeps its edition, agreement, seller and invoices: nothing the
        # partner picked is sold, nothing is charged until its renewal.
        seller, currency = None, ""
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
            engagement_tie(engagement=engagement, tenant=tenant)
            with tenant_scope(tenant):
                collaboration = collaboration_live_locked(tenant=tenant, partner=partner)
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
                        "edition": (edition_name(edition) if activation.sells_subscription else ""),
                        "seats": seats,
                        "agreement_months": agreement_months,
                        "invoice_recipient": invoice_recipient,
                        "admin_name": customer.admin_name if customer is not None else "",
                        "password_path": password_path,
                        "path": approve_path,
                        "expires_at": activation.expires_at.isoformat(),
                    },
                    language=tenant.language,
                    time_zone=country_time_zone(tenant.country),
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
        if activation.sells_subscription:
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
                raise ValidationError(error.message) from None
            activation.subscription = subscription
        activation.status = ActivationStatus.APPROVED
        activation.approved_by = user
        activation.approved_at = now
        activation.save(update_fields=["status", "approved_by", "approved_at", "subscription"])
        _activation_answered(activation, user=user, outcome="approved")
    return activation


def activation_decline(*, activation: PartnerActivation, user: User) -> PartnerActivation:
    """The customer's administrator declines: the activation is closed, a collaboration that
    was waiting only for it ends (the partner never had access), and the partner is told."""
    tenant = activation.tenant
    with tenant_scope(tenant), transaction.atomic():
        activation = PartnerActivation.objects.select_for_update().get(pk=activation.pk)
        if activation.status != ActivationStatus.PENDING or activation.expires_at <= clock.now():
            raise ValidationError(_("This activation is no longer waiting for approval."))
        if not Membership.objects.filter(
            tenant=tenant, user=user, role=Role.ADMIN, is_active=True
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
        activation.status = ActivationStatus.DECLINED
        activation.save(update_fields=["status"])
        _activation_answered(activation, user=user, outcome="declined")
    return activation


def _activation_answered(activation: PartnerActivation, *, user: User, outcome: str) -> None:
    """The customer's answer (`approved` or `declined`) in its audit trail and to the
    partner's users."""
    tenant = activation.tenant
    audit_record(
        tenant=tenant,
        actor=user,
        action=f"partner.activation_{outcome}",
        partner=activation.partner.name,
        scenario=activation.scenario,
    )
    mail_enqueue(
        to=partner_user_emails(activation.partner),
        template=f"partner_activation_{outcome}",
        context={"tenant": tenant.name, "partner": activation.partner.name},
    )


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


def activations_pending_of_tenant(tenant: Tenant) -> list[PartnerActivation]:
    """Activations waiting for the tenant's approval (its Partners page lists them, so an
    administrator who lost the e-mail, or set up two-factor sign-in first, still finds them)."""
    with tenant_scope(tenant):
        return list(
            PartnerActivation.objects.filter(
                status=ActivationStatus.PENDING, expires_at__gt=clock.now()
            ).select_related("partner", "tenant", "seller")
        )
