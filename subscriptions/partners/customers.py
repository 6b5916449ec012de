"""The partner's engagements (tasks), its customers, ending a collaboration, and partner
organisations with their first user (DESIGN §3.8)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounts.mail import mail_enqueue
from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Partner,
    PartnerMembership,
    Tenant,
    User,
)
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from severa import clock
from severa.identifiers import IdentifierError, business_id_clean
from subscriptions.models import (
    ActivationStatus,
    Engagement,
    PartnerActivation,
    Subscription,
)

# Engagements.


def engagement_create(*, partner: Partner, name: str, customer: Tenant | None = None) -> Engagement:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"engagement": [_("Name the engagement.")]})
    return Engagement.objects.create(
        partner=partner, name=name, customer=customer, created_at=clock.now()
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


def engagement_tie(*, engagement: Engagement, tenant: Tenant) -> None:
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


def collaboration_live_locked(*, tenant: Tenant, partner: Partner) -> Collaboration | None:
    return (
        Collaboration.objects.select_for_update()
        .filter(tenant=tenant, partner=partner)
        .exclude(status=CollaborationStatus.ENDED)
        .first()
    )


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
        collaboration = collaboration_live_locked(tenant=tenant, partner=partner)
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


def collaborations_of_tenant(tenant: Tenant) -> list[Collaboration]:
    with tenant_scope(tenant):
        return list(
            Collaboration.objects.exclude(status=CollaborationStatus.ENDED).select_related(
                "partner"
            )
        )


# Partner organisations (operators).


def partner_create(
    *,
    name: str,
    country: str,
    business_id: str,
    user_name: str,
    user_email: str,
    by: User,
    support_email: str = "",
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
            name=name.strip(),
            country=country,
            business_id=business_id,
            support_email=(support_email or "").strip().lower(),
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
