from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self) -> None:
        # Models and services load only once the app registry is ready.
        from accounts.hooks import joining_licence_register, page_section_register
        from accounts.tenancy import MANAGING_ROLES
        from subscriptions.overview import subscription_summary
        from subscriptions.selectors import active_licences, licence_limit
        from subscriptions.services import licence_for_joining_user

        joining_licence_register(
            lambda tenant, user: licence_for_joining_user(tenant=tenant, user=user)
        )
        page_section_register(
            page="tenant_home",
            name="summary",
            roles=MANAGING_ROLES,
            read=lambda request: subscription_summary(tenant=request.tenant),
        )
        page_section_register(
            page="tenant_users",
            name="active_licences",
            read=lambda request: active_licences(tenant=request.tenant),
        )
        page_section_register(
            page="tenant_users",
            name="licence_limit",
            read=lambda request: licence_limit(tenant=request.tenant),
        )
