from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import delivery_tasks  # noqa: F401  (registers the Celery tasks)
        from billing.contacts import billing_contact_removed
        from billing.delivery import invoice_links_contact_removed

        billing_contact_removed.connect(
            invoice_links_contact_removed, dispatch_uid="billing.invoice_links_contact_removed"
        )
