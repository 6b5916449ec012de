"""Configuration from the environment, checked in fresh processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "SEVERA_TODAY",
            "DATABASE_URL",
            "REDIS_URL",
            "EMAIL_URL",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    clean.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SETUP = "import django; django.setup(); from django.conf import settings; "


def test_the_embedded_defaults():
    result = _run(
        SETUP + "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']"
        "['NAME'], settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND, "
        "settings.EMAIL_FILE_PATH, settings.DATABASES['default']['CONN_MAX_AGE'])",
        DJANGO_SETTINGS_MODULE="severa.settings.development",
    )
    assert result.returncode == 0, result.stderr
    engine, name, eager, backend, mail_path, max_age = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "var" / "severa.sqlite3")
    assert eager == "True"
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert mail_path == str(ROOT / "var" / "mail")
    assert int(max_age) > 0


def test_environment_variables_configure_services():
    result = _run(
        SETUP + "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_HOST)",
        DJANGO_SETTINGS_MODULE="severa.settings.development",
        DATABASE_URL="postgres://u@db.example:5432/x",
        REDIS_URL="redis://cache.example:6379/0",
        EMAIL_URL="smtp://mail.example:25",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.example:6379/0",
        "False",
        "mail.example",
    ]


def test_secret_key_is_required_when_debug_is_off():
    result = _run(SETUP, DJANGO_SETTINGS_MODULE="severa.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_severa_today_is_refused_when_debug_is_off():
    result = _run(
        SETUP,
        DJANGO_SETTINGS_MODULE="severa.settings.production",
        SECRET_KEY="x" * 60,
        SEVERA_TODAY="2025-06-05",
    )
    assert result.returncode != 0
    assert "SEVERA_TODAY is refused when DEBUG is off" in result.stderr


@pytest.mark.parametrize("value", ["2025-02-30", "tomorrow"])
def test_a_malformed_severa_today_is_refused(value):
    result = _run(SETUP, DJANGO_SETTINGS_MODULE="severa.settings.development", SEVERA_TODAY=value)
    assert result.returncode != 0
    assert "SEVERA_TODAY must be YYYY-MM-DD" in result.stderr


def test_severa_today_replays_a_date_for_a_whole_process():
    result = _run(
        SETUP + "from severa import clock; print(clock.today(), clock.now().date())",
        DJANGO_SETTINGS_MODULE="severa.settings.development",
        SEVERA_TODAY="2024-02-29",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2024-02-29", "2024-02-29"]


def test_check_deploy_reports_nothing_with_production_settings():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DEBUG"},
            "DJANGO_SETTINGS_MODULE": "severa.settings.production",
            "SECRET_KEY": "k3y-" + "a7Zq9" * 12,
            "ALLOWED_HOSTS": "billing.example.com",
            "DEFAULT_FROM_EMAIL": "Severa billing <billing@example.com>",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "severa.settings.production",
    "SECRET_KEY": "k3y-" + "a7Zq9" * 12,
    "ALLOWED_HOSTS": "billing.example.com",
    "DEFAULT_FROM_EMAIL": "Severa billing <billing@example.com>",
}


def test_production_refuses_to_start_without_a_sender_address():
    env = {k: v for k, v in PRODUCTION.items() if k != "DEFAULT_FROM_EMAIL"}
    result = _run(SETUP, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEFAULT_FROM_EMAIL must be set in production" in result.stderr

    result = _run(SETUP + "print(settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Severa", "billing", "<billing@example.com>"] * 2


def test_secure_cookies_are_one_variable():
    code = SETUP + "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    assert _run(code, **PRODUCTION).stdout.split() == ["True", "True"]
    assert _run(code, **PRODUCTION, SECURE_COOKIES="false").stdout.split() == ["False", "False"]


HEALTH_PROBE = SETUP + (
    "from django.test import Client; client = Client(); "
    # The container's probe: plain HTTP to its own address.
    "r = client.get('/healthz', HTTP_HOST='127.0.0.1:8000'); "
    "print(r.status_code, r.json()['status']); "
    "r = client.get('/accounts/login/', HTTP_HOST='127.0.0.1:8000'); print(r.status_code); "
    "r = client.get('/accounts/login/', HTTP_HOST='billing.example.com'); print(r.status_code)"
)


def test_the_health_probe_works_behind_the_https_redirect_and_the_host_check(tmp_path, settings):
    result = _run(
        HEALTH_PROBE,
        **PRODUCTION,
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        REDIS_URL=settings.REDIS_URL,  # this process's own (each xdist worker has one)
        MEDIA_ROOT=str(tmp_path / "media"),
        EINVOICE_DROP_DIR=str(tmp_path / "einvoice"),
        EMAIL_URL="consolemail://",
    )
    assert result.returncode == 0, result.stderr
    # /healthz answers; everything else is still redirected to HTTPS or refused for an
    # unknown host.
    assert result.stdout.split() == ["200", "ok", "400", "301"]


def test_the_configuration_page_documents_every_variable_the_settings_read():
    import re

    source = "\n".join(
        path.read_text() for path in sorted((ROOT / "severa" / "settings").glob("*.py"))
    )
    read = set(
        re.findall(
            r"""(?:env(?:\.\w+)?|os\.environ(?:\.get|\.setdefault)?)\(\s*["']([A-Z][A-Z0-9_]*)["']""",
            source,
        )
    )
    assert {"DEFAULT_FROM_EMAIL", "SECRET_KEY", "TEST_EINVOICE_DROP_DIR"} <= read
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(name for name in read if f"`{name}`" not in configuration)
    assert missing == []
