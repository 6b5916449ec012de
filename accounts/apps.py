from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants, users and partners"

    def ready(self) -> None:
        # Models load only once the app registry is ready.
        from accounts import signals  # noqa: F401 - registers the receivers
        from accounts.models import Partner, PartnerMembership
        from accounts.navigation import partner_changed, partner_membership_changed

        post_save.connect(partner_membership_changed, sender=PartnerMembership)
        post_delete.connect(partner_membership_changed, sender=PartnerMembership)
        # A deleted partner's memberships go with it (post_delete above).
        post_save.connect(partner_changed, sender=Partner)
        _request_cache_receivers()


def _request_cache_receivers() -> None:
    from django.apps import apps
    from django_otp.models import Device

    # Models load only once the app registry is ready (called from ready()).
    from accounts import request_cache
    from accounts.models import Membership, Tenant, User, rows_updated

    for signal in (post_save, post_delete):
        signal.connect(request_cache.user_changed, sender=User)
        signal.connect(request_cache.membership_changed, sender=Membership)
        for model in apps.get_models():
            if issubclass(model, Device):
                signal.connect(request_cache.device_changed, sender=model)
    post_save.connect(request_cache.tenant_changed, sender=Tenant)
    rows_updated.connect(request_cache.rows_updated)
