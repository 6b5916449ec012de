"""Writes on tenants, users, memberships, invitations and API tokens."""

import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.audit import ActorLike, AuditAction, audit_record
from accounts.hooks import joining_user_licensed, tenant_created
from accounts.locale_format import country_time_zone
from accounts.mail import mail_enqueue, user_mail_locale
from accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Partner,
    PartnerMembership,
    Role,
    Tenant,
    User,
)
from accounts.secrets import token_hash, token_new
from severa import clock

# A new tenant's language when none is given: the one its users most likely read.
LANGUAGE_BY_COUNTRY = {"FI": "fi", "SE": "sv", "NO": "nb"}


@transaction.atomic
def tenant_create(
    *,
    name: str,
    country: str,
    business_id: str,
    vat_number: str,
    actor: ActorLike,
    language: str = "",
    action: AuditAction = AuditAction.TENANT_PROVISIONED,
) -> Tenant:
    """A new company (an operator's provisioning, a partner's new customer), audited. Its
    language, unless given, follows its country; the apps above are told of it
    (``accounts.hooks.tenant_created``) in the same transaction."""
    tenant = Tenant.objects.create(
        name=name,
        country=country,
        business_id=business_id,
        vat_number=vat_number,
        language=language or LANGUAGE_BY_COUNTRY.get(country, "en"),
    )
    audit_record(actor=actor, action=action, tenant=tenant, subject=tenant)
    tenant_created(tenant=tenant)
    return tenant


def tenant_admin_emails(*, tenant: Tenant) -> list[str]:
    return list(
        Membership.objects.filter(
            tenant=tenant, role=Role.ADMIN, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )


def partner_user_emails(*, partner: Partner) -> list[str]:
    """The addresses of the partner's active users (each told of its activations and
    invitations; the recipients of its invoices when it has no billing contacts)."""
    return list(
        PartnerMembership.objects.filter(
            partner=partner, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )


@transaction.atomic
def membership_add(*, tenant: Tenant, user: User, role: str, actor: ActorLike) -> Membership:
    """Add a user to a tenant and tell the tenant's admins (a security notice). The user
    takes a free licence; beyond the free seats it joins deactivated and the admins are told
    (the rule subscriptions registers in `accounts.hooks`)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError(_("This user already belongs to the company."))
    licensed = joining_user_licensed(tenant=tenant, user=user)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                tenant=tenant, user=user, role=role, is_active=licensed
            )
    except IntegrityError:
        raise ValidationError(_("This user already belongs to the company.")) from None
    audit_record(
        actor=actor,
        action=AuditAction.USER_ADDED,
        tenant=tenant,
        subject=user,
        details={"user": user.username, "role": role},
    )
    # Imported here: the task module imports this one (its task sends the notice below).
    from accounts.tasks import notify_new_member

    transaction.on_commit(
        lambda: notify_new_member.delay(tenant_id=tenant.pk, membership_id=membership.pk)
    )
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor: ActorLike) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_another_admin(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action=AuditAction.USER_ROLE_CHANGED,
        tenant=membership.tenant,
        subject=membership.user,
        details={"user": membership.user.username, "previous": previous, "role": role},
    )
    mail_enqueue(
        to=tenant_admin_emails(tenant=membership.tenant),
        template="role_changed_notice",
        context={
            "tenant": membership.tenant.name,
            "user": membership.user.username,
            "role": str(Role(role).label),
        },
        language=membership.tenant.language,
        tenant=membership.tenant,
    )
    return membership


def new_member_notice_send(*, membership: Membership) -> list[str]:
    """E-mail the tenant's admins (except the new user) that a user was added."""
    tenant, user = membership.tenant, membership.user
    recipients = [email for email in tenant_admin_emails(tenant=tenant) if email != user.email]
    if recipients:
        mail_enqueue(
            to=recipients,
            template="new_user_notice",
            context={
                "tenant": tenant.name,
                "user": user.get_full_name() or user.username,
                "email": user.email,
                "role": str(Role(membership.role).label),
            },
            language=tenant.language,
            tenant=tenant,
            # The task may run twice: the notice about one membership is written once.
            dedupe_key=f"new_user_notice:{membership.pk}",
        )
    return recipients


def _ensure_another_admin(membership: Membership) -> None:
    others = Membership.objects.filter(
        tenant_id=membership.tenant_id, role=Role.ADMIN, is_active=True
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(_("A company needs at least one active administrator."))


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor: User, notify: bool = True
) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and its (unstored) token.

    ``notify=False`` leaves the e-mail to the caller (a partner activation sends one e-mail
    with both the invitation and the approval link).
    """
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    email = email.strip().lower()
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person already belongs to the company.")})
    token = token_new()
    created_at = clock.now()
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=actor,
        created_at=created_at,
        expires_at=created_at + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_CREATED,
        tenant=tenant,
        subject=invitation,
        details={"email": email, "role": role},
    )
    if not notify:
        return invitation, token
    mail_enqueue(
        to=[email],
        template="invitation",
        context={
            "tenant": tenant.name,
            "invited_by": actor.get_full_name() or actor.username,
            "path": reverse("accounts:invitation_accept", kwargs={"token": token}),
            "expires_at": invitation.expires_at.isoformat(),
        },
        language=tenant.language,
        time_zone=country_time_zone(tenant.country),
        tenant=tenant,
    )
    return invitation, token


def invitation_find(*, token: str) -> Invitation | None:
    """The open invitation behind a token, or None (unknown, used, revoked or expired)."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("tenant")
            .filter(token_hash=token_hash(token), accepted_at=None, revoked_at=None)
            .first()
        )
    if invitation is None or invitation.expires_at <= clock.now():
        return None
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None = None,
    username: str = "",
    password: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Accept an invitation as an existing user or by creating one; used once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= clock.now():
        raise ValidationError(_("This invitation is no longer valid."))
    if user is None:
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("This username is taken.")})
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(_("An account with this e-mail exists: sign in first."))
        candidate = User(
            username=username, email=invitation.email, first_name=first_name, last_name=last_name
        )
        validate_password(password, candidate)
        candidate.set_password(password)
        candidate.save()
        user = candidate
    elif user.email.lower() != invitation.email:
        raise ValidationError(_("This invitation was sent to another e-mail address."))
    invitation.accepted_at = clock.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership_add(
        tenant=invitation.tenant, user=user, role=invitation.role, actor=invitation.invited_by
    )
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: ActorLike) -> None:
    """Disable an account everywhere: its sessions end (Django refuses inactive users on the
    next request) and its API tokens are revoked (``accounts.signals``, which catches every
    way an account is disabled). An account belongs to no one company: the event is the
    operators'."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditAction.USER_DEACTIVATED, subject=user)


@transaction.atomic
def api_token_create(*, user: User) -> tuple[ApiToken, str]:
    key = token_new()
    created_at = clock.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(key),
        prefix=key[:8],
        created_at=created_at,
        expires_at=created_at + datetime.timedelta(days=settings.API_TOKEN_VALID_DAYS),
    )
    audit_record(
        actor=user,
        action=AuditAction.API_TOKEN_CREATED,
        subject=user,
        details={"prefix": token.prefix},
    )
    language, time_zone = user_mail_locale(user)
    mail_enqueue(
        to=[user.email],
        template="api_token_notice",
        context={
            "user": user.username,
            "prefix": token.prefix,
            "created_at": created_at.isoformat(),
        },
        language=language,
        time_zone=time_zone,
    )
    return token, key


def api_tokens_revoke_all(*, user: User) -> int:
    """End every token of ``user``: a password change or reset, a two-factor reset and
    deactivation call this (``accounts.signals``). Returns how many were still live."""
    with transaction.atomic():
        count = ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=clock.now())
        if count:
            audit_record(
                actor=None,
                action=AuditAction.API_TOKENS_REVOKED,
                subject=user,
                details={"count": count},
            )
    return count


def api_tokens_of_user(*, user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first (what the list and Revoke show)."""
    return list(
        ApiToken.objects.filter(user=user, revoked_at=None, expires_at__gt=clock.now()).order_by(
            "-created_at", "-pk"
        )
    )


def api_token_revoke(*, user: User, token_id: object) -> ApiToken | None:
    """Revoke one of ``user``'s live tokens; None when it names no such token (another
    user's is as unknown as none)."""
    try:
        token_pk = int(token_id)
    except (TypeError, ValueError):
        return None
    token = next((t for t in api_tokens_of_user(user=user) if t.pk == token_pk), None)
    if token is None:
        return None
    with transaction.atomic():
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=user,
            action=AuditAction.API_TOKEN_REVOKED,
            subject=user,
            details={"prefix": token.prefix},
        )
    return token


def api_token_find(*, key: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(key), revoked_at=None)
        .first()
    )
    if token is None or token.expires_at <= clock.now() or not token.user.is_active:
        return None
    return token


def login_record(*, user: User) -> None:
    """Keep the previous sign-in time before Django overwrites ``last_login``."""
    user.previous_login_at = user.last_login
    user.save(update_fields=["previous_login_at"])


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: ActorLike) -> None:
    if invitation.revoked_at is None:
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.INVITATION_REVOKED,
            tenant=invitation.tenant,
            subject=invitation,
            details={"email": invitation.email},
        )
