from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants, users and partners"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 - registers the receivers
