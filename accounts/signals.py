"""Every way a user's credentials change ends the user's API tokens: a password change or
reset (any form, the admin or ``changepassword``), a two-factor reset (a confirmed device
removed) and deactivation. Receivers only detect the change and call the service."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import api_tokens_revoke_all
from accounts.twofactor import two_factor_reset as two_factor_reset_record

_CREDENTIAL_FIELDS = {"password", "is_active"}


@receiver(pre_save, sender=User, dispatch_uid="accounts.user_credentials_changing")
def user_credentials_changing(sender, instance: User, update_fields=None, **kwargs) -> None:
    instance._ends_api_tokens = False
    if instance.pk is None or (
        update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields)
    ):
        return
    stored = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    instance._ends_api_tokens = stored["password"] != instance.password or (
        stored["is_active"] and not instance.is_active
    )


@receiver(post_save, sender=User, dispatch_uid="accounts.user_credentials_changed")
def user_credentials_changed(sender, instance: User, created: bool, **kwargs) -> None:
    if getattr(instance, "_ends_api_tokens", False):
        instance._ends_api_tokens = False
        api_tokens_revoke_all(user=instance)


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="accounts.two_factor_reset")
def two_factor_reset(sender, instance: TOTPDevice, **kwargs) -> None:
    # An unconfirmed device is an enrolment started and abandoned: nothing was reset.
    if instance.confirmed:
        two_factor_reset_record(user=instance.user)
