from django.apps import AppConfig


class SeveraConfig(AppConfig):
    """The project itself: start-up checks shared by manage.py, the WSGI app and Celery."""

    name = "severa"
    verbose_name = "Severa"

    def ready(self) -> None:
        from severa.folders import app_folders_create

        app_folders_create()
