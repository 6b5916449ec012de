"""Playwright (sync API) driving Debian's Chromium against pytest-django's ``live_server``.

No browser is ever downloaded: the tests use ``/usr/bin/chromium`` (``make system-browser``
installs it) and are skipped when it is missing.
"""

from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _stale_catalogs() -> list[Path]:
    stale = []
    for locale_dir in settings.LOCALE_PATHS:
        for po in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                stale.append(po)
    return stale


@pytest.fixture(scope="session")
def compiled_messages():
    """The pages are checked in Finnish: make sure the catalogs are compiled and current
    (``make messages`` does the same)."""
    if _stale_catalogs():
        from django.core.management import call_command

        call_command("compilemessages", ignore_patterns=[".venv/*", "var/*"], verbosity=0)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (make system-browser installs it)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an asyncio event loop in this thread, so Django would
        # refuse the ORM calls the tests make for their set-up. Only while the browser runs:
        # set for the whole session, it would leak into subprocesses (`check --deploy` fails
        # on it).
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (own cookies) against the live server."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(base_url=live_server.url, locale="en-GB", **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
