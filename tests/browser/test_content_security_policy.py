"""Under the Content-Security-Policy every page still works in a real browser: no inline
script or handler is refused, the language switch submits from the vendored script, and the
API docs render from the app's own assets."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import Role
from tests.factories import PASSWORD, MembershipFactory, OperatorFactory, TenantFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db", "compiled_messages"),
]


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def _violations(page) -> list[str]:
    """Collect what the browser refuses under the policy (console reports)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_pages_run_under_the_policy_and_the_language_switch_works(new_page, settings):
    settings.TWO_FACTOR_REQUIRED = False
    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
    operator = OperatorFactory()

    page = new_page()
    violations = _violations(page)
    response = page.goto(reverse("accounts:login"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Aalto Consulting Oy")).to_be_visible()

    # The switch has no inline handler: choosing a language submits from app.js.
    page.get_by_label("Language").select_option("fi")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    for path in (
        reverse("accounts:account"),
        reverse("accounts:two_factor_setup"),  # the QR code is inline SVG, not script
        reverse("tenant_home", args=[tenant.pk]),
        reverse("tenant_users", args=[tenant.pk]),
        reverse("tenant_upgrades", args=[tenant.pk]),
    ):
        page.goto(path)
    assert violations == []

    operator_page = new_page()
    violations = _violations(operator_page)
    operator_page.goto(reverse("accounts:login"))
    operator_page.get_by_label("Username").fill(operator.username)
    operator_page.get_by_label("Password").fill(PASSWORD)
    operator_page.get_by_role("button", name="Sign in").click()
    operator_page.goto(reverse("api_docs"))
    expect(operator_page.get_by_text("/api/v1/auth/token").first).to_be_visible()
    operator_page.goto(reverse("operator_home"))
    operator_page.goto(reverse("admin:index"))
    expect(operator_page.locator("#site-name")).to_be_visible()
    assert violations == []
