from django.apps import AppConfig


class SeveraConfig(AppConfig):
    """The project itself: start-up checks shared by manage.py, the WSGI app and Celery."""

    name = "severa"
    verbose_name = "Severa"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        # Loaded once the app registry is ready: the folders read settings.
        from severa.folders import app_folders_create
        from severa.table_versions import watch_connection

        app_folders_create()
        connection_created.connect(watch_connection, dispatch_uid="severa.table_versions")
