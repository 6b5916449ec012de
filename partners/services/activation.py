"""Activating a collaboration in the seed's three scenarios (DESIGN §3.8): the partner's
request, which waits for the customer's approval (``partners.services.approval``)."""

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

from accounts.audit import AuditAction, audit_record
from accounts.locale_format import country_time_zone
from accounts.mail import mail_enqueue
from accounts.models import Collaboration, CollaborationStatus, Partner, Role, Tenant, User
from accounts.secrets import token_hash, token_new
from accounts.services import (
    invitation_create,
    tenant_admin_emails,
    tenant_create,
)
from accounts.tenancy import tenant_scope
from billing.models import SellerEntity
from partners.models import (
    ActivationScenario,
    Engagement,
    InvoiceRecipient,
    PartnerActivation,
)
from partners.selectors import activation_tenant, edition_name, engagement_of_partner, seller_for
from partners.services.collaborations import collaboration_live_locked
from partners.services.engagements import engagement_tie
from severa import clock
from severa.errors import DomainError
from severa.identifiers import IdentifierError, business_id_clean, vat_number_clean
from subscriptions.catalog import price_book
from subscriptions.models import Subscription

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
    seller, currency = seller_for(country)
    # What is sold: the price book's rule, with the included storage and nothing added yet.
    refusals = price_book(currency=currency, on=clock.today().replace(day=1)).selection_refusals(
        edition=edition or "",
        seats=0 if seats is None else seats,
        storage_gb=None,
        add_ons=(),
        interfaces=(),
    )
    for field_name, field_errors in refusals.items():
        errors[field_name] = [error.message for error in field_errors]
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


def activation_create(
    *,
    partner: Partner,
    engagement: Engagement | int | str,
    actor: User,
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
        tenant = activation_tenant(
            country=company.country, business_id=company.business_id, name=company.name
        )
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
                tenant = tenant_create(
                    name=customer.name,
                    country=customer.country,
                    business_id=customer.business_id,
                    vat_number=customer.vat_number,
                    actor=actor,
                    action=AuditAction.TENANT_CREATED_FOR_PARTNER,
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
                        actor=actor,
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
                    created_by=actor,
                    created_at=now,
                )
                audit_record(
                    actor=actor,
                    action=AuditAction.PARTNER_ACTIVATION_CREATED,
                    tenant=tenant,
                    partner=partner,
                    subject=activation,
                    details={
                        "partner": partner.name,
                        "scenario": scenario,
                        "edition": edition or "",
                        "seats": seats,
                        "invoice_recipient": invoice_recipient,
                        "agreement_months": agreement_months,
                    },
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
                    tenant=tenant,
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
