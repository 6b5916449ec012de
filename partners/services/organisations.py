"""Partner organisations with their first user, created by the operators (DESIGN §3.8)."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.mail import mail_enqueue
from accounts.models import Partner, PartnerMembership, User
from severa.identifiers import IdentifierError, business_id_clean


def partner_create(
    *,
    name: str,
    country: str,
    business_id: str,
    user_name: str,
    user_email: str,
    actor: User,
    support_email: str = "",
) -> tuple[Partner, User]:
    """A partner organisation with its first user, who gets an e-mail with a link to set a
    password (Django's one-time password-reset token)."""
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
        audit_record(
            actor=actor,
            action=AuditAction.PARTNER_CREATED,
            partner=partner,
            subject=partner,
            details={"user": user.email},
        )
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
            partner=partner,
        )
    return partner, user
