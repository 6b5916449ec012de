"""A customer's invitation to a partner, accepted by a link with an engagement and the
partner terms (DESIGN §3.8)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.locale_format import country_time_zone
from accounts.mail import mail_enqueue
from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Partner,
    PartnerMembership,
    Tenant,
    User,
)
from accounts.secrets import token_hash, token_new
from accounts.services import partner_user_emails, tenant_admin_emails
from accounts.tenancy import tenant_scope
from partners.models import Engagement, PartnerInvitation, PartnerTermsAcceptance
from partners.selectors import engagement_of_partner, partner_terms_current
from partners.services.collaborations import collaboration_live_locked
from partners.services.engagements import engagement_create, engagement_tie
from severa import clock

# Invitations from a customer to a partner.


def partner_invitation_create(
    *, tenant: Tenant, actor: User, partner_id: int | str | None = None, email: str = ""
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
    recipients = [email] if email else partner_user_emails(partner=partner)
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
            invited_by=actor,
            created_at=now,
            expires_at=now + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(
            actor=actor,
            action=AuditAction.PARTNER_INVITED,
            tenant=tenant,
            partner=partner,
            subject=invitation,
            details={"partner": partner.name},
        )
        mail_enqueue(
            to=recipients,
            template="partner_invitation",
            context={
                "tenant": tenant.name,
                "partner": partner.name,
                "invited_by": actor.get_full_name() or actor.username,
                "path": reverse("partner_invitation_open", kwargs={"token": token}),
                "expires_at": invitation.expires_at.isoformat(),
            },
            # To the partner's users: in the partner's time zone.
            time_zone=country_time_zone(partner.country),
            partner=partner,
        )
    return invitation, token


def partner_invitation_accept(
    *,
    invitation: PartnerInvitation,
    user: User,
    engagement: Engagement | int | str | None = None,
    engagement_name: str = "",
    details_confirmed: bool = False,
    terms_version: str = "",
) -> Collaboration:
    """A user of the invited partner accepts, choosing an engagement (or naming a new one)
    for the customer: the collaboration is active at once.

    As the seed's steps go, the user first confirms that the partner's business id and the
    invited e-mail address shown are right (`details_confirmed`) and accepts the current
    partner terms (`terms_version` names the version read); the acceptance is recorded."""
    partner = invitation.partner
    if not PartnerMembership.objects.filter(partner=partner, user=user, is_active=True).exists():
        raise ValidationError(
            _("Only a user of %(partner)s can accept this.") % {"partner": partner.name}
        )
    if not details_confirmed:
        raise ValidationError(
            _("Check that your business id and e-mail address shown are right, and confirm it.")
        )
    terms = partner_terms_current()
    if terms is not None and terms_version != terms.version:
        raise ValidationError(
            _("Accept the partner terms (version %(version)s) to accept the invitation.")
            % {"version": terms.version}
        )
    tenant = invitation.tenant
    with tenant_scope(tenant), transaction.atomic():
        invitation = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= clock.now():
            raise ValidationError(_("This invitation is no longer valid."))
        if terms is not None:
            PartnerTermsAcceptance.objects.create(
                partner=partner,
                version=terms.version,
                accepted_by=user,
                accepted_at=clock.now(),
                invitation=invitation,
            )
        if engagement not in (None, ""):
            chosen = engagement_of_partner(partner=partner, engagement=engagement)
        else:
            chosen = engagement_create(
                partner=partner, name=engagement_name, actor=user, customer=tenant
            )
        chosen = Engagement.objects.select_for_update().get(pk=chosen.pk)
        engagement_tie(engagement=chosen, tenant=tenant)
        collaboration = collaboration_live_locked(tenant=tenant, partner=partner)
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
            actor=user,
            action=AuditAction.PARTNER_INVITATION_ACCEPTED,
            tenant=tenant,
            partner=partner,
            subject=collaboration,
            details={"partner": partner.name},
        )
        mail_enqueue(
            to=tenant_admin_emails(tenant=tenant),
            template="partner_invitation_accepted",
            context={"tenant": tenant.name, "partner": partner.name},
            language=tenant.language,
            tenant=tenant,
        )
    return collaboration
