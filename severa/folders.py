"""The folders the app writes to, created at start-up (severa/apps.py).

A fresh clone has no ``var/`` (git ignores it): SQLite, the file e-mail backend, the e-invoice
drop folder and stored documents would each fail later with an obscure error. Every process
(manage.py, the WSGI app, Celery) creates them when Django starts and stops with a clear
message naming the setting when one cannot be created or written.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def app_folders() -> dict[str, Path]:
    """The folders this configuration writes to, by the variable that sets each."""
    folders = {"MEDIA_ROOT": Path(settings.MEDIA_ROOT)}
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if (
        database["ENGINE"] == "django.db.backends.sqlite3"
        and name
        and name != ":memory:"
        and not name.startswith("file:")
    ):
        folders["DATABASE_URL"] = Path(name).parent
    if settings.EMAIL_BACKEND == FILE_EMAIL_BACKEND:
        folders["EMAIL_URL"] = Path(settings.EMAIL_FILE_PATH)
    if settings.EINVOICE_TRANSPORT == "file":
        folders["EINVOICE_DROP_DIR"] = Path(settings.EINVOICE_DROP_DIR)
    return folders


def app_folders_create() -> None:
    """Create every folder of ``app_folders()``; ImproperlyConfigured when one cannot be
    created or is not writable by this process's user."""
    for variable, folder in app_folders().items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ImproperlyConfigured(
                f"Cannot create the folder {folder} (set by {variable}): "
                f"{error.strerror or error}. Create it, make it writable by user id "
                f"{os.getuid()}, or point {variable} elsewhere."
            ) from error
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ImproperlyConfigured(
                f"The folder {folder} (set by {variable}) is not writable by user id "
                f"{os.getuid()}. Make it writable or point {variable} elsewhere."
            )
