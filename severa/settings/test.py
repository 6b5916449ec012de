"""Tests: real PostgreSQL and Redis (the local servers unless DATABASE_URL/REDIS_URL say
otherwise); Celery eager unless a test starts a worker."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/severa")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("CACHE_KEY_PREFIX", f"severa-test-{os.getpid()}")

from severa.settings.base import *  # noqa: E402, F403
from severa.settings.base import STORAGES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
# Several checkouts may run their suites side by side: each gives its own folders.
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", "/tmp/severa-test-media")  # noqa: S108
EINVOICE_TRANSPORT = "file"
EINVOICE_DROP_DIR = os.environ.get(
    "TEST_EINVOICE_DROP_DIR", "/tmp/severa-test-einvoice"  # noqa: S108
)
TABLE_VERSIONS_STRICT = True  # a versioned read of an undeclared table fails the test
