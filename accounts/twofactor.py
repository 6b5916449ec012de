"""TOTP two-factor sign-in (django-otp). Mandatory for tenant admins, partner users and
operators where ``TWO_FACTOR_REQUIRED`` is on."""

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from accounts.audit import AuditAction, audit_record
from accounts.models import Membership, PartnerMembership, Role, User
from accounts.services import api_tokens_revoke_all


def two_factor_required(user: User) -> bool:
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    if user.is_operator:
        return True
    if PartnerMembership.objects.filter(user=user, is_active=True).exists():
        return True
    with scopes_disabled():
        return Membership.objects.filter(user=user, role=Role.ADMIN, is_active=True).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def device_start_enrolment(user: User) -> TOTPDevice:
    """A fresh unconfirmed device; any earlier unconfirmed one is replaced."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def device_verify(device: TOTPDevice, code: str) -> bool:
    """Check a code; django-otp throttles repeated failures per device."""
    code = "".join(code.split())
    if not code.isdigit():
        return False
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False
    return device.verify_token(code)


@transaction.atomic
def device_confirm(*, device: TOTPDevice) -> None:
    """The user turned two-step sign-in on with a code from its device."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor=device.user, action=AuditAction.TWO_FACTOR_ENABLED, subject=device.user)


@transaction.atomic
def two_factor_reset(*, user: User) -> None:
    """A confirmed device was removed (an operator's reset in the admin): the user's API
    tokens end and the reset is audited."""
    api_tokens_revoke_all(user=user)
    audit_record(actor=None, action=AuditAction.TWO_FACTOR_DISABLED, subject=user)
