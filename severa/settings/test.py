"""Tests: real PostgreSQL and Redis (the local servers unless DATABASE_URL/REDIS_URL say
otherwise); Celery eager unless a test starts a worker."""

import os
from urllib.parse import urlsplit

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/severa")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("CACHE_KEY_PREFIX", f"severa-test-{os.getpid()}")

from severa.settings.base import *  # noqa: E402, F403
from severa.settings.base import CACHES, REDIS_URL, STORAGES  # noqa: E402

# pytest-xdist runs the suite in workers gw0, gw1, … side by side (`make test`). Each has its
# own test database (pytest-django adds _gw0, _gw1, …), its own Redis database (REDIS_URL's
# number plus the worker's: the tests clear the cache, which empties the whole database) and
# its own folders. Subprocesses a test starts inherit PYTEST_XDIST_WORKER and land on the same.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    _redis = urlsplit(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + int(XDIST_WORKER.removeprefix("gw"))
    REDIS_URL = _redis._replace(path=f"/{_redis_db}").geturl()
    CACHES["default"]["LOCATION"] = REDIS_URL
    CELERY_BROKER_URL = REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
# Several checkouts may run their suites side by side: each gives its own folders (and each
# xdist worker uses a subfolder of its own).
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", "/tmp/severa-test-media")  # noqa: S108
EINVOICE_TRANSPORT = "file"
EINVOICE_DROP_DIR = os.environ.get(
    "TEST_EINVOICE_DROP_DIR", "/tmp/severa-test-einvoice"  # noqa: S108
)
if XDIST_WORKER:
    MEDIA_ROOT = os.path.join(MEDIA_ROOT, XDIST_WORKER)
    EINVOICE_DROP_DIR = os.path.join(EINVOICE_DROP_DIR, XDIST_WORKER)
TABLE_VERSIONS_STRICT = True  # a versioned read of an undeclared table fails the test
