"""Layouts that hold and pages everyone can use: the main pages of each role, on the demo
data, at a phone's and a desktop's width in every language.

- No element's content leaves its box (cards, table cells, definition lists, buttons, badges)
  and the page never scrolls sideways. The screenshots are kept under ``var/screenshots/``.
- axe-core (``static/vendor/axe.min.js``) finds no serious or critical violation.

One browser, one context per role, each page opened once per language and width."""

import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from severa import clock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.serial,  # a browser walking every role's pages in four languages at two widths
    pytest.mark.usefixtures("transactional_db", "compiled_messages"),
]

LANGUAGES = ("en", "fi", "sv", "nb")
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
# In the middle of the demo subscriptions' periods (Aalto: Feb–Apr 2025, Berg & Lind: March).
TODAY = datetime.date(2025, 3, 10)

# Every element whose content must stay inside it; hidden ones (a closed <details>) are
# skipped. Reports the page's sideways scroll too.
OVERFLOW_SCRIPT = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`the page scrolls sideways (${root.scrollWidth}px > ${root.clientWidth}px)`);
  }
  // Hidden for the eye, there for screen readers (.sr-only, a stacked table's header).
  const visuallyHidden = (element) => {
    for (let node = element; node; node = node.parentElement) {
      if (node.getBoundingClientRect().width <= 1) return true;
    }
    return false;
  };
  const selector = ".card, td, th, dt, dd, button, .button, .badge, .mainnav a, h1, h2";
  for (const element of document.querySelectorAll(selector)) {
    if (!element.getClientRects().length || visuallyHidden(element)) continue;
    if (element.scrollWidth > element.clientWidth + 1) {
      const text = element.innerText.trim().replace(/\\s+/g, " ").slice(0, 60);
      problems.push(
        `<${element.tagName.toLowerCase()} class="${element.className}"> "${text}" ` +
        `needs ${element.scrollWidth}px, has ${element.clientWidth}px`
      );
    }
  }
  return problems;
}
"""

AXE_SCRIPT = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ` +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}
"""


def _seed() -> dict:
    """The demo data, one invoicing run and an open Agreement for Aalto Consulting."""
    from accounts.models import Partner, Tenant, User
    from billing.models import BillingContact
    from billing.runs import invoicing_run
    from partners.demo import demo_everything as demo_seed
    from subscriptions.models import Subscription
    from subscriptions.services import Desired, quote_create

    with clock.frozen(datetime.date(2025, 3, 1)):
        demo_seed()
        invoicing_run(day=datetime.date(2025, 3, 1), deliver=False)
    with scopes_disabled(), clock.frozen(TODAY):
        aalto = Tenant.objects.get(name="Aalto Consulting Oy")
        berg = Tenant.objects.get(name="Berg & Lind AB")
        partner = Partner.objects.get()
        quote = quote_create(
            subscription=Subscription.objects.get(tenant=aalto),
            desired=Desired(
                seats=10,
                storage_gb=500,
                add_ons=frozenset({"resource-planning", "travel-expenses"}),
            ),
            actor=User.objects.get(username="aino.admin"),
        )
        contact = BillingContact.objects.filter(tenant=aalto).order_by("pk").last()
    return {
        "aalto": aalto.pk,
        "berg": berg.pk,
        "partner": partner.pk,
        "quote": quote.pk,
        "contact": contact.pk,
    }


def _pages(role: str, ids: dict) -> list[tuple[str, str]]:
    aalto, berg, partner = ids["aalto"], ids["berg"], ids["partner"]
    return {
        "admin": [
            ("home", reverse("tenant_home", args=[aalto])),
            ("upgrades", reverse("tenant_upgrades", args=[aalto])),
            ("adjust", reverse("tenant_adjust", args=[aalto])),
            ("edition", reverse("tenant_edition", args=[aalto])),
            ("agreement", reverse("tenant_agreement", args=[aalto, ids["quote"]])),
            ("users", reverse("tenant_users", args=[aalto])),
            ("billing", reverse("tenant_billing", args=[aalto])),
            ("contacts", reverse("tenant_billing_contacts", args=[aalto])),
            ("integrations", reverse("tenant_integrations", args=[aalto])),
            ("partners", reverse("tenant_partners", args=[aalto])),
            ("orders", reverse("tenant_orders", args=[aalto])),
            ("audit", reverse("tenant_audit", args=[aalto])),
            (
                "remove-contact",
                reverse("tenant_billing_contact_remove", args=[aalto, ids["contact"]]),
            ),
            ("account", reverse("accounts:account")),
        ],
        "billing": [
            ("dashboard", reverse("dashboard")),
            ("billing", reverse("tenant_billing", args=[berg])),
            ("details", reverse("tenant_billing_details", args=[berg])),
            ("contacts", reverse("tenant_billing_contacts", args=[berg])),
        ],
        "partner": [
            ("home", reverse("partner_home", args=[partner])),
            ("customer", reverse("partner_customer", args=[partner, berg])),
            ("activation", reverse("partner_activation", args=[partner])),
            ("billing", reverse("partner_billing", args=[partner])),
            ("upgrades", reverse("tenant_upgrades", args=[berg])),
            ("end-collaboration", reverse("partner_customer_end", args=[partner, berg])),
        ],
        "operator": [
            ("home", reverse("operator_home")),
            ("billing-runs", reverse("operator_billing_runs")),
            ("invoices", reverse("operator_invoices")),
            ("outbox", reverse("operator_outbox")),
            ("einvoices", reverse("operator_einvoices")),
            ("audit", reverse("operator_audit")),
        ],
    }[role]


USERS = {
    "admin": "aino.admin",
    "billing": "sara.billing",
    "partner": "paula.partner",
    "operator": "operator",
}


@pytest.mark.parametrize("role", list(USERS))
def test_the_main_pages_fit_every_width_and_language_and_pass_axe(
    role, browser, live_server, settings
):
    # Two-factor sign-in has its own browser test; here it would only add steps.
    settings.TWO_FACTOR_REQUIRED = False
    ids = _seed()
    pages = _pages(role, ids)
    axe = AXE.read_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    # Playwright adds axe as a script of the page: only allowed when the context bypasses the
    # Content-Security-Policy (the site itself never loads it).
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, device_scale_factor=1, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    try:
        with clock.frozen(TODAY):
            page = context.new_page()
            host = live_server.url.split("//", 1)[1].split(":")[0]
            context.add_cookies([_session_cookie(USERS[role], host)])
            for language in LANGUAGES:
                context.add_cookies(
                    [
                        {
                            "name": settings.LANGUAGE_COOKIE_NAME,
                            "value": language,
                            "domain": host,
                            "path": "/",
                        }
                    ]
                )
                for width_name, viewport in WIDTHS.items():
                    page.set_viewport_size(viewport)
                    for name, url in pages:
                        response = page.goto(url)
                        where = f"{role} {name} {language} {viewport['width']}px"
                        if response is None or response.status != 200:
                            problems.append(f"{where}: HTTP {response and response.status}")
                            continue
                        assert page.locator("html").get_attribute("lang") == language
                        page.screenshot(
                            path=SCREENSHOTS / f"{role}-{name}-{language}-{width_name}.png",
                            full_page=True,
                        )
                        problems += [f"{where}: {p}" for p in page.evaluate(OVERFLOW_SCRIPT)]
                        # Colours and names do not change with the width: axe runs once per
                        # page and language, plus the phone in English.
                        if width_name == "desktop" or language == "en":
                            page.add_script_tag(content=axe)
                            problems += [f"{where}: {p}" for p in page.evaluate(AXE_SCRIPT)]
                        if name == "agreement" and width_name == "phone":
                            problems += [
                                f"{where}: {p}" for p in _amounts_off_screen(page, viewport)
                            ]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _session_cookie(username: str, host: str) -> dict:
    """Signed in as the demo user (the sign-in page has its own browser test)."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(
        User.objects.get(username=username), backend="accounts.request_cache.CachedModelBackend"
    )
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    return {"name": cookie.key, "value": cookie.value, "domain": host, "path": "/"}


def _amounts_off_screen(page, viewport: dict) -> list[str]:
    """The Agreement's amounts must be on the screen, not behind a sideways scroll."""
    boxes = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=agreement-lines] td")]
             .map((cell) => { const r = cell.getBoundingClientRect();
                              return [cell.innerText.trim(), r.left, r.right]; })"""
    )
    return [
        f"{json.dumps(text)} lies at {left:.0f}–{right:.0f}px, outside the screen"
        for text, left, right in boxes
        if right > viewport["width"] or left < 0
    ]
