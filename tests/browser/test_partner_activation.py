"""In a real browser: a partner activates a brand-new customer (DESIGN §3.8); the invited
administrator sets a password through the e-mailed link, approves the collaboration by
accepting the terms, and sees the subscription."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from partners.models import Engagement
from severa import clock
from subscriptions.models import Subscription
from tests.factories import (
    PASSWORD,
    PartnerFactory,
    PartnerMembershipFactory,
    SellerEntityFactory,
    catalog_create,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db", "compiled_messages"),
]


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_partner_creates_a_customer_whose_admin_sets_a_password_and_approves(
    new_page, live_server, settings, mailoutbox
):
    # Two-factor enrolment has its own browser test; here it would only add steps.
    settings.TWO_FACTOR_REQUIRED = False
    catalog_create()
    SellerEntityFactory(name="Severa Finland Oy")
    partner = PartnerFactory(name="Tilitoimisto Luku Oy")
    partner_user = PartnerMembershipFactory(partner=partner).user
    with scopes_disabled():
        Engagement.objects.create(partner=partner, name="Bookkeeping", created_at=clock.now())

    page = new_page()
    page.goto(reverse("accounts:login"))
    page.get_by_label("Username").fill(partner_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(reverse("partner_home", kwargs={"partner_id": partner.pk}))
    page.get_by_role("link", name="Activate a customer").click()

    page.get_by_label("Engagement").select_option(label="Bookkeeping")
    page.get_by_label("Company name").fill("Uusi Asiakas Oy")
    page.get_by_label("Country", exact=True).fill("FI")
    page.get_by_label("Business id", exact=True).fill("1572860-0")
    page.get_by_label("VAT number").fill("FI15728600")
    page.get_by_label("Administrator's name").fill("Ville Virtanen")
    page.get_by_label("Administrator's e-mail").fill("ville@uusi.test")
    page.get_by_label("Edition").select_option(label="Business")
    page.get_by_label("Seats").fill("3")
    page.get_by_label("Invoice recipient").select_option(label="Partner")
    page.get_by_label("Agreement period").select_option(label="12 months")
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_text("nothing is active or charged until then")).to_be_visible()
    customers = page.get_by_role("table").first
    expect(customers.get_by_role("link", name="Uusi Asiakas Oy")).to_be_visible()
    expect(page.get_by_text("Waiting for approval")).to_be_visible()
    with scopes_disabled():
        assert not Subscription.objects.exists()

    [message] = [m for m in mailoutbox if m.to == ["ville@uusi.test"]]
    password_url, _approve_url = re.findall(r"https?://\S+", message.body)
    password_path = re.sub(r"^https?://[^/]+", "", password_url)

    admin_page = new_page()
    admin_page.goto(password_path)
    admin_page.get_by_label("First name").fill("Ville")
    admin_page.get_by_label("Last name").fill("Virtanen")
    admin_page.get_by_label("Username").fill("ville")
    admin_page.get_by_label("Password").fill("a long and unguessable passphrase 9")
    admin_page.get_by_role("button", name="Accept the invitation").click()

    expect(
        admin_page.get_by_role(
            "heading", name="Approve the collaboration with Tilitoimisto Luku Oy"
        )
    ).to_be_visible()
    expect(admin_page.get_by_test_id("activation-summary")).to_contain_text(
        "Business, 3 seats, agreement period 12 months"
    )
    # Approving needs the terms accepted.
    expect(admin_page.get_by_label("I accept the terms of service")).to_have_attribute(
        "required", ""
    )
    admin_page.get_by_label("I accept the terms of service").check()
    admin_page.get_by_role("button", name="Approve").click()

    expect(admin_page.get_by_role("heading", name="Business edition")).to_be_visible()
    with scopes_disabled():
        subscription = Subscription.objects.get(tenant__name="Uusi Asiakas Oy")
        assert subscription.invoice_partner == partner
        assert subscription.seats == 3

    # The partner now sees the customer as active, with its subscription.
    page.reload()
    expect(page.get_by_text("Waiting for approval")).to_have_count(0)
    expect(page.get_by_role("cell", name="Business", exact=True)).to_be_visible()
