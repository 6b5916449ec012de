"""Settings shared by every environment, read strictly from environment variables.

A malformed value raises ``ImproperlyConfigured`` at start-up instead of being silently
replaced by a default.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The one clock (severa/clock.py). SEVERA_TODAY replays a date for a whole process;
# production must run on the real date, so it is refused there.
SEVERA_TODAY = None
_today = env.str("SEVERA_TODAY", default="")
if _today:
    if not DEBUG:
        raise ImproperlyConfigured("SEVERA_TODAY is refused when DEBUG is off.")
    try:
        SEVERA_TODAY = datetime.date.fromisoformat(_today)
    except ValueError as error:
        raise ImproperlyConfigured(f"SEVERA_TODAY must be YYYY-MM-DD, not {_today!r}.") from error

INSTALLED_APPS = [
    # First: creates the folders the app writes to (severa/folders.py).
    "severa.apps.SeveraConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "accounts",
    "api",
    "subscriptions",
    "billing",
    "partners",
    "integrations",
    "records",
]

MIDDLEWARE = [
    # /healthz answers before the HTTPS redirect and the Host check: probes reach the
    # container over plain HTTP on its own address (severa/health.py).
    "severa.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "severa.middleware.PrivateDocumentsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.request_cache.CachedOTPMiddleware",
    "accounts.middleware.TwoFactorEnforcementMiddleware",
    "accounts.middleware.OperatorScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After a seller migration, a tenant's admin accepts the new seller's terms first.
    "billing.terms_views.TermsGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "severa.urls"
WSGI_APPLICATION = "severa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'severa.sqlite3'}"),
}
# Persistent connections: measured 5x the throughput of reconnecting per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "severa.cache.ReusedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="severa"),
        }
    }
    # Sessions read from the shared cache, written through to the database: no query per
    # request for the session, and nobody is signed out when the cache is flushed.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# EMAIL_URL: smtp://user:password@host:587, consolemail://, memorymail://, or
# filemail://<path> (relative paths are under the project folder; default var/mail).
_email_url = env.str("EMAIL_URL", default="filemail://var/mail")
if _email_url.startswith("filemail://"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(BASE_DIR / _email_url.removeprefix("filemail://"))
else:
    vars().update(env.email_url_config(_email_url))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Severa billing <billing@severa.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.request_cache.CachedModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Two-factor sign-in is mandatory for tenant admins, partner users and operators.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
OTP_TOTP_ISSUER = "Severa billing"

# Lock-out after repeated failures, keyed on username + IP so nobody can lock a victim
# out from elsewhere.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_ENABLE_ADMIN = True
AXES_VERBOSE = False

INVITATION_VALID_DAYS = 7

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fi", _("Finnish")),
    ("sv", _("Swedish")),
    ("nb", _("Norwegian Bokmål")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"

SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts, styles and images only
# from the app itself (vendored assets, no inline script), no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Severa subscription & billing API",
    "DESCRIPTION": (
        "Tenant-owned resources live under /api/v1/tenants/{tenant_id}/. Authenticate with "
        "POST /api/v1/auth/token and send the token as `Authorization: Bearer <token>`. "
        "POSTs that create orders, invoices or payments accept an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several enums are fields named "kind" or "status": name them after their choices, not
    # after a hash of them (Kind7b1Enum).
    "ENUM_NAME_OVERRIDES": {
        "ChangeKindEnum": "subscriptions.models.ChangeKind",
        "OrderKindEnum": "subscriptions.models.OrderKind",
        "ChangeStatusEnum": "subscriptions.models.ChangeStatus",
        "QuoteStatusEnum": "subscriptions.models.QuoteStatus",
        "SubscriptionStatusEnum": "subscriptions.models.SubscriptionStatus",
        "InvoiceKindEnum": "billing.models.InvoiceKind",
        "InvoiceStatusEnum": "billing.models.InvoiceState",
        "BillingRunKindEnum": "billing.models.BillingRunKind",
        "BillingRunStatusEnum": "billing.models.BillingRunStatus",
        "SellerMigrationStatusEnum": "billing.models.SellerMigrationStatus",
        "ConnectionStatusEnum": "integrations.models.ConnectionStatus",
        "SyncRunStatusEnum": "integrations.models.SyncRunStatus",
        "TransferOutcomeEnum": "integrations.models.TransferOutcome",
        "MasterEnum": "integrations.models.Master",
        "ProductKindEnum": "records.models.ProductKind",
        "CustomerKindEnum": "records.models.CustomerKind",
        "AddressKindEnum": "records.models.AddressKind",
        "SalesStatusEnum": "records.models.SalesStatus",
    },
}
API_TOKEN_VALID_DAYS = env.int("API_TOKEN_VALID_DAYS", default=30)
IDEMPOTENCY_KEY_VALID_HOURS = 24

# Celery. Without REDIS_URL tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# Money jobs must survive a worker crash: acknowledge after the task ran and requeue the
# message when the worker dies. Every task is idempotent, so a redelivery is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers unacknowledged messages after the visibility timeout: it must exceed the
# longest task and the longest ETA/countdown we use (retries back off at most 1 hour).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 60 * 60}
CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
CELERY_TASK_TIME_LIMIT = 35 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "api-idempotency-keys-expire": {
        "task": "api.idempotency_keys_expire",
        "schedule": 60 * 60,
    },
    # Rollovers, the weekly invoicing run and overdue marking (billing/runs.py), in
    # CELERY_TIMEZONE (Europe/Helsinki) local time.
    "billing-daily-run": {
        "task": "billing.daily_run",
        "schedule": crontab(hour=3, minute=0),
    },
}

# The weekday of the weekly invoicing run: 0 = Monday … 6 = Sunday.
# Helper tasks the daily billing run queues per rollover and invoicing run, so that other
# Celery workers claim chunks of the run alongside it (billing/chunks.py).
BILLING_RUN_HELPERS = env.int("BILLING_RUN_HELPERS", default=3)
INVOICING_WEEKDAY = env.int("INVOICING_WEEKDAY", default=0)
if not 0 <= INVOICING_WEEKDAY <= 6:
    raise ImproperlyConfigured(
        f"INVOICING_WEEKDAY must be 0 (Monday) to 6 (Sunday), not {INVOICING_WEEKDAY}."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every rendering step of every PDF at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# Invoice delivery (billing/delivery.py, accounts/outbox.py): how long an e-mailed invoice link
# stays valid; the outbox relay sends due messages every minute, and the resume sweep queues
# again the invoices whose delivery task was lost.
INVOICE_LINK_VALID_DAYS = env.int("INVOICE_LINK_VALID_DAYS", default=180)
if INVOICE_LINK_VALID_DAYS < 1:
    raise ImproperlyConfigured("INVOICE_LINK_VALID_DAYS must be at least 1.")
CELERY_BEAT_SCHEDULE["outbox-relay"] = {"task": "accounts.outbox_relay", "schedule": 60}
CELERY_BEAT_SCHEDULE["billing-invoice-deliveries-resume"] = {
    "task": "billing.invoice_deliveries_resume",
    "schedule": 15 * 60,
}

# E-invoice delivery (billing/einvoice/delivery.py, billing/einvoice/transports.py): "file"
# drops the documents into EINVOICE_DROP_DIR/<channel>/; "http" POSTs them to the operator.
EINVOICE_TRANSPORT = env.str("EINVOICE_TRANSPORT", default="file")
if EINVOICE_TRANSPORT not in ("file", "http"):
    raise ImproperlyConfigured("EINVOICE_TRANSPORT must be 'file' or 'http'.")
EINVOICE_DROP_DIR = env.str("EINVOICE_DROP_DIR", default=str(BASE_DIR / "var" / "einvoice"))
EINVOICE_HTTP_URL = env.str("EINVOICE_HTTP_URL", default="")
EINVOICE_HTTP_TOKEN = env.str("EINVOICE_HTTP_TOKEN", default="")
EINVOICE_HTTP_TIMEOUT = env.float("EINVOICE_HTTP_TIMEOUT", default=30.0)
if EINVOICE_TRANSPORT == "http" and not EINVOICE_HTTP_URL:
    raise ImproperlyConfigured("EINVOICE_TRANSPORT=http needs EINVOICE_HTTP_URL.")
CELERY_BEAT_SCHEDULE["billing-einvoice-relay"] = {"task": "billing.einvoice_relay", "schedule": 60}

# Fortnox (integrations/fortnox/client.py). The fake server (python -m
# integrations.fortnox.fake) answers the same paths on a local port.
FORTNOX_API_URL = env.str("FORTNOX_API_URL", default="https://api.fortnox.se/3/")
FORTNOX_AUTH_URL = env.str("FORTNOX_AUTH_URL", default="https://apps.fortnox.se/oauth-v1/auth")
FORTNOX_TOKEN_URL = env.str("FORTNOX_TOKEN_URL", default="https://apps.fortnox.se/oauth-v1/token")
FORTNOX_REVOKE_URL = env.str(
    "FORTNOX_REVOKE_URL", default="https://apps.fortnox.se/oauth-v1/revoke"
)
FORTNOX_CLIENT_ID = env.str("FORTNOX_CLIENT_ID", default="")
FORTNOX_CLIENT_SECRET = env.str("FORTNOX_CLIENT_SECRET", default="")
FORTNOX_TIMEOUT = env.float("FORTNOX_TIMEOUT", default=30.0)
if FORTNOX_TIMEOUT <= 0:
    raise ImproperlyConfigured("FORTNOX_TIMEOUT must be a positive number of seconds.")
if not FORTNOX_API_URL.endswith("/"):
    FORTNOX_API_URL += "/"

# Visma eEkonomi / eAccounting API v2 (integrations/eaccounting/client.py) and the Visma Online
# identity server. The fake server (python -m integrations.eaccounting.fake) answers the same
# paths on a local port.
EACCOUNTING_API_URL = env.str(
    "EACCOUNTING_API_URL", default="https://eaccountingapi.vismaonline.com/v2/"
)
EACCOUNTING_AUTH_URL = env.str(
    "EACCOUNTING_AUTH_URL", default="https://identity.vismaonline.com/connect/authorize"
)
EACCOUNTING_TOKEN_URL = env.str(
    "EACCOUNTING_TOKEN_URL", default="https://identity.vismaonline.com/connect/token"
)
EACCOUNTING_REVOKE_URL = env.str(
    "EACCOUNTING_REVOKE_URL", default="https://identity.vismaonline.com/connect/revocation"
)
EACCOUNTING_CLIENT_ID = env.str("EACCOUNTING_CLIENT_ID", default="")
EACCOUNTING_CLIENT_SECRET = env.str("EACCOUNTING_CLIENT_SECRET", default="")
EACCOUNTING_TIMEOUT = env.float("EACCOUNTING_TIMEOUT", default=30.0)
if EACCOUNTING_TIMEOUT <= 0:
    raise ImproperlyConfigured("EACCOUNTING_TIMEOUT must be a positive number of seconds.")
if not EACCOUNTING_API_URL.endswith("/"):
    EACCOUNTING_API_URL += "/"
# Visma.net ERP (integrations/vismanet/client.py): the API (…/v1/) and Visma Connect (its
# /connect/authorize, /connect/token and /connect/revocation). The fake server (python -m
# integrations.vismanet.fake) answers both on a local port.
VISMANET_API_URL = env.str("VISMANET_API_URL", default="https://api.finance.visma.net/v1/")
VISMANET_CONNECT_URL = env.str("VISMANET_CONNECT_URL", default="https://connect.visma.com")
VISMANET_CLIENT_ID = env.str("VISMANET_CLIENT_ID", default="")
VISMANET_CLIENT_SECRET = env.str("VISMANET_CLIENT_SECRET", default="")
VISMANET_TIMEOUT = env.float("VISMANET_TIMEOUT", default=30.0)
if VISMANET_TIMEOUT <= 0:
    raise ImproperlyConfigured("VISMANET_TIMEOUT must be a positive number of seconds.")
if not VISMANET_API_URL.endswith("/"):
    VISMANET_API_URL += "/"
VISMANET_CONNECT_URL = VISMANET_CONNECT_URL.rstrip("/")

# Integrations (integrations/): secrets at rest (OAuth tokens) are encrypted with Fernet under
# a key derived from SEVERA_FIELD_KEY, or from SECRET_KEY while that is empty; values written
# under SECRET_KEY stay readable after SEVERA_FIELD_KEY is set. Scheduled syncs of every
# active connection are queued every INTEGRATION_SYNC_INTERVAL_MINUTES.
SEVERA_FIELD_KEY = env.str("SEVERA_FIELD_KEY", default="")
INTEGRATION_SYNC_INTERVAL_MINUTES = env.int("INTEGRATION_SYNC_INTERVAL_MINUTES", default=15)
if INTEGRATION_SYNC_INTERVAL_MINUTES < 1:
    raise ImproperlyConfigured("INTEGRATION_SYNC_INTERVAL_MINUTES must be at least 1.")
CELERY_BEAT_SCHEDULE["integrations-sync-runs-queue"] = {
    "task": "integrations.sync_runs_queue",
    "schedule": INTEGRATION_SYNC_INTERVAL_MINUTES * 60,
}
# On-premises agents (Visma Global, integrations/agents.py): an idle agent comes back after
# AGENT_IDLE_SECONDS; a long poll is held at most AGENT_LONG_POLL seconds; a run waits
# AGENT_JOB_TIMEOUT seconds for one job's answer. Agents silent for a day are e-mailed about
# (once per outage) by the hourly check.
AGENT_IDLE_SECONDS = env.int("AGENT_IDLE_SECONDS", default=60)
AGENT_LONG_POLL = env.int("AGENT_LONG_POLL", default=25)
AGENT_JOB_TIMEOUT = env.float("AGENT_JOB_TIMEOUT", default=60.0)
CELERY_BEAT_SCHEDULE["integrations-agents-offline-mail"] = {
    "task": "integrations.agents_offline_mail",
    "schedule": 60 * 60,
}
