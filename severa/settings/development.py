"""Local development and the demo: DEBUG on, embedded defaults."""

import os

os.environ.setdefault("DEBUG", "true")

from severa.settings.base import *  # noqa: E402, F403
from severa.settings.base import STORAGES  # noqa: E402

WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
