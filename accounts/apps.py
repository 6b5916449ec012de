from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants, users and partners"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 - registers the receivers
        from accounts.models import Partner, PartnerMembership
        from accounts.navigation import partner_changed, partner_membership_changed

        post_save.connect(partner_membership_changed, sender=PartnerMembership)
        post_delete.connect(partner_membership_changed, sender=PartnerMembership)
        # A deleted partner's memberships go with it (post_delete above).
        post_save.connect(partner_changed, sender=Partner)
