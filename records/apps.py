from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Business records")

    def ready(self) -> None:
        # Models and services load only once the app registry is ready.
        from accounts.hooks import tenant_created_register
        from records.services import invoice_statuses_default

        # Every new company starts with the default invoice statuses.
        tenant_created_register(lambda tenant: invoice_statuses_default(tenant=tenant))
