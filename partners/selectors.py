"""Reads of the partner app (DESIGN §3.8): the partner's customers and engagements, the
activations and invitations behind a token or waiting for a tenant, the partner terms, the
operators' support requests, and the partner's billing rows as a buyer.

Access is decided by the callers (``accounts.tenancy.partner_access`` for the partner,
``tenant_view``/``TenantScopedAPIMixin`` for the customer's admins); a read that names a
row by id answers only within the partner's or tenant's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Partner,
    PartnerMembership,
    Tenant,
    User,
)
from accounts.secrets import token_hash
from accounts.tenancy import tenant_scope
from billing.details import ADDRESS_FIELDS, DELIVERY_FIELDS, PAYMENT_FIELDS
from billing.models import BillingDetails, Invoice, SellerEntity
from billing.scoping import partner_scope
from partners.models import (
    ActivationStatus,
    Engagement,
    PartnerActivation,
    PartnerInvitation,
    PartnerTermsVersion,
    SupportRequest,
    SupportRequestStatus,
)
from severa import clock
from severa.identifiers import IdentifierError, business_id_clean
from subscriptions.models import Edition, Subscription

# The currency a new partner-activated subscription is sold in, by the customer's country.
CURRENCY_BY_COUNTRY = {"FI": "EUR", "SE": "SEK", "NO": "NOK", "DK": "DKK"}
# The partner overview lists agreements that end within this many days.
ENDING_WITHIN_DAYS = 60

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


def partner_customers(*, partner: Partner) -> list[PartnerCustomer]:
    """The customers the partner collaborates with or waits for (never any other tenant;
    a waiting one without its subscription)."""
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
        # Until the customer approves, the partner sees only what it typed itself: the
        # name and business id it named the company by and its own activation, never the
        # customer's subscription.
        approved_ids = [
            c.tenant_id for c in collaborations if c.status == CollaborationStatus.ACTIVE
        ]
        subscriptions = {
            s.tenant_id: s
            for s in Subscription.objects.filter(tenant_id__in=approved_ids).select_related(
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


def partner_customer(*, partner: Partner, tenant_id: object) -> PartnerCustomer:
    """One of the partner's customers, or ``Http404`` (another tenant is as unknown as none)."""
    try:
        tenant_pk = int(tenant_id)
    except (TypeError, ValueError):
        raise Http404("No such customer.") from None
    for customer in partner_customers(partner=partner):
        if customer.tenant.pk == tenant_pk:
            return customer
    raise Http404("No such customer.")


@dataclass(frozen=True)
class PartnerOverview:
    ending: list[PartnerCustomer]  # agreement ending soonest first
    waiting: list[PartnerCustomer]  # waiting for the customer's approval


def partner_overview(*, customers: list[PartnerCustomer], today: date) -> PartnerOverview:
    """Of a partner's `customers` (``partner_customers``): those whose agreement ends within
    `ENDING_WITHIN_DAYS` of `today`, and those waiting for the customer to approve (an
    activation, or the collaboration itself)."""
    horizon = today + timedelta(days=ENDING_WITHIN_DAYS)
    ending = sorted(
        (
            customer
            for customer in customers
            if customer.subscription is not None
            and customer.subscription.agreement_end is not None
            and today <= customer.subscription.agreement_end <= horizon
        ),
        key=lambda customer: (customer.subscription.agreement_end, customer.tenant.name),
    )
    waiting = [
        customer
        for customer in customers
        if customer.pending_activation is not None or customer.is_pending
    ]
    return PartnerOverview(ending=ending, waiting=waiting)


def partner_memberships(*, partner: Partner) -> QuerySet[PartnerMembership]:
    """The partner's users (active or not), for its portal's home page."""
    return PartnerMembership.objects.filter(partner=partner).select_related("user")


def collaborations_of_tenant(*, tenant: Tenant) -> list[Collaboration]:
    with tenant_scope(tenant):
        return list(
            Collaboration.objects.exclude(status=CollaborationStatus.ENDED).select_related(
                "partner"
            )
        )


# Engagements.


def engagements_of_partner(*, partner: Partner) -> QuerySet[Engagement]:
    return Engagement.objects.filter(partner=partner).select_related("customer")


def engagements_for_invitation(*, invitation: PartnerInvitation) -> QuerySet[Engagement]:
    """The engagements the invited partner may tie to the inviting customer: its free ones
    and those tied to that customer already."""
    partner = invitation.partner_id
    return Engagement.objects.filter(partner=partner, customer__isnull=True) | (
        Engagement.objects.filter(partner=partner, customer_id=invitation.tenant_id)
    )


def engagement_of_partner(*, partner: Partner, engagement: Engagement | int | str) -> Engagement:
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


# Activations.


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
    return Edition.objects.filter(code=code).values_list("name", flat=True).first() or code


def _company_name_key(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def activation_tenant(*, country: str, business_id: str, name: str) -> Tenant:
    """The existing company whose country, business id and name are all these.

    A business id that is not found and one whose company has another name get the same
    answer, so a partner learns nothing about a company it cannot name completely."""
    country = (country or "").strip().upper()
    try:
        business_id = business_id_clean(country, business_id)
    except IdentifierError as error:
        raise ValidationError(str(error)) from None
    name = _company_name_key(name)
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


def activation_seller(*, activation: PartnerActivation) -> SellerEntity | None:
    """Whose terms the customer accepts: the new subscription's seller, or its current one."""
    if activation.seller is not None:
        return activation.seller
    with tenant_scope(activation.tenant):
        subscription = Subscription.objects.filter(tenant=activation.tenant).first()
    return subscription.seller if subscription is not None else None


def activations_pending_of_tenant(*, tenant: Tenant) -> list[PartnerActivation]:
    """Activations waiting for the tenant's approval (its Partners page lists them, so an
    administrator who lost the e-mail, or set up two-factor sign-in first, still finds them)."""
    with tenant_scope(tenant):
        return list(
            PartnerActivation.objects.filter(
                status=ActivationStatus.PENDING, expires_at__gt=clock.now()
            ).select_related("partner", "tenant", "seller")
        )


# Invitations from a customer to a partner, and the partner terms.


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


def partner_invitations_open(*, partner: Partner) -> list[PartnerInvitation]:
    with scopes_disabled():
        return list(
            PartnerInvitation.objects.filter(
                partner=partner,
                accepted_at=None,
                revoked_at=None,
                expires_at__gt=clock.now(),
            ).select_related("tenant")
        )


def partner_invitations_of_tenant(*, tenant: Tenant) -> list[PartnerInvitation]:
    with tenant_scope(tenant):
        return list(
            PartnerInvitation.objects.filter(accepted_at=None, revoked_at=None).select_related(
                "partner"
            )
        )


def partner_terms_current() -> PartnerTermsVersion | None:
    """The partner terms in force today: the latest published on or before it."""
    return PartnerTermsVersion.objects.filter(published_on__lte=clock.today()).first()


def invited_customer_edition(*, invitation: PartnerInvitation) -> str | None:
    """The inviting customer's current edition (its name), or None without a subscription:
    the customer invited the partner, so the partner may see it before accepting."""
    with tenant_scope(invitation.tenant):
        subscription = (
            Subscription.objects.filter(tenant=invitation.tenant).select_related("edition").first()
        )
    return subscription.edition.name if subscription is not None else None


# Support requests (operators).


def support_requests_open() -> list[SupportRequest]:
    """Every tenant's open requests: for the operators' page only; each with
    ``requested_edition_name``, the edition as the catalogue names it."""
    with scopes_disabled():
        requests = list(
            SupportRequest.objects.filter(status=SupportRequestStatus.OPEN).select_related(
                "tenant", "partner", "created_by"
            )
        )
    names = dict(Edition.objects.values_list("code", "name"))
    for item in requests:
        item.requested_edition_name = names.get(item.requested_edition, item.requested_edition)
    return requests


# The partner as a buyer: its billing details, billing contacts and consolidated invoices.


def partner_billing_details_get(*, partner: Partner) -> BillingDetails:
    """The partner's billing details; an unsaved row (address country = the partner's)
    when none are saved yet."""
    with partner_scope(partner):
        details = BillingDetails.objects.filter(partner=partner).first()
    if details is None:
        details = BillingDetails(partner=partner, country=partner.country)
    return details


def partner_billing_details_values(*, details: BillingDetails) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(details, name) for name in ADDRESS_FIELDS}
    values["business_id"] = details.partner.business_id
    values["vat_number"] = details.vat_number
    values.update({name: getattr(details, name) for name in DELIVERY_FIELDS + PAYMENT_FIELDS})
    values["updated_at"] = details.updated_at
    return values


def partner_user_candidates(*, partner: Partner) -> QuerySet[User]:
    """Active users of the partner who are not its billing contacts yet."""
    return (
        User.objects.filter(
            is_active=True,
            partner_memberships__partner=partner,
            partner_memberships__is_active=True,
        )
        .exclude(billing_contacts__partner=partner)
        .order_by("first_name", "last_name", "username")
    )


def partner_invoices(*, partner: Partner) -> QuerySet[Invoice]:
    """The partner's consolidated invoices and credit notes, newest first (call inside the
    partner's scope)."""
    return Invoice.objects.filter(partner=partner).defer("pdf").order_by("-invoice_date", "-number")
