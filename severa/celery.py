import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "severa.settings.development")

app = Celery("severa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
