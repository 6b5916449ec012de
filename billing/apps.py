from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Models and tasks load only once the app registry is ready.
        from accounts.hooks import page_section_register
        from accounts.outbox import outbox_settled_register
        from accounts.tenancy import BILLING_ROLES
        from billing import delivery_tasks  # noqa: F401  (registers the Celery tasks)
        from billing.contacts import billing_contact_addresses, billing_contact_removed
        from billing.delivery import invoice_links_contact_removed, invoice_message_settled
        from billing.invoice_list import tenant_open_invoices
        from subscriptions.delivery import billing_contacts_register

        billing_contact_removed.connect(
            invoice_links_contact_removed, dispatch_uid="billing.invoice_links_contact_removed"
        )
        page_section_register(
            page="tenant_home", name="open_invoices", roles=BILLING_ROLES, read=tenant_open_invoices
        )
        billing_contacts_register(addresses=billing_contact_addresses)
        outbox_settled_register(callback=invoice_message_settled)
