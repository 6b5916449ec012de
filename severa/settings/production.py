"""Production: HTTPS only, strict cookies. Requires SECRET_KEY, ALLOWED_HOSTS and
DEFAULT_FROM_EMAIL."""

from django.core.exceptions import ImproperlyConfigured

from severa.settings.base import *  # noqa: F403
from severa.settings.base import env

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# The session and CSRF cookies are sent over HTTPS only: serve the app behind TLS. Browsers
# also accept them from http://localhost; SECURE_COOKIES=false is for a trial over plain HTTP
# on another address, never for real use.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES

# Mail goes out in the operator's name: a made-up sender would be rejected or land in spam.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="")
if not DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL must be set in production, e.g. 'Severa billing <billing@example.com>'."
    )
SERVER_EMAIL = DEFAULT_FROM_EMAIL
