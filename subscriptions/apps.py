from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self) -> None:
        from subscriptions.catalog import catalog_changed
        from subscriptions.models import AddOn, Edition, Interface, Price, StorageTier

        for model in (AddOn, Edition, Interface, Price, StorageTier):
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-{model}")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-d-{model}")
        m2m_changed.connect(
            catalog_changed, sender=AddOn.included_in.through, dispatch_uid="catalog-included"
        )
