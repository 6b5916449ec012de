"""End-to-end in a real browser: sign-in with two-factor, navigation, the language switch, and
the dashboard's layout on a phone."""

import datetime
import struct

import pytest
from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import Role
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    TenantFactory,
    totp_code,
    totp_device,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db", "compiled_messages"),
]

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = settings.BASE_DIR / "test-results"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(page, username: str) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_with_a_code_and_switches_the_language(new_page, live_server):
    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        TenantFactory(name="Charlie Competitor Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN, user__first_name="Aino").user
    admin.last_login = datetime.datetime(2026, 3, 2, 8, 15, tzinfo=datetime.UTC)
    admin.save(update_fields=["last_login"])
    device = totp_device(admin)

    page = new_page()
    sign_in(page, admin.username)

    # The password alone is not enough: the code page comes next.
    expect(page).to_have_url(live_server.url + reverse("accounts:login_otp"))
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(live_server.url + reverse("dashboard"))
    expect(page.get_by_role("heading", name="Welcome, Aino")).to_be_visible()
    company = page.get_by_role("link", name="Aalto Consulting Oy")
    expect(company).to_be_visible()
    expect(page.get_by_text("Charlie Competitor Oy")).to_have_count(0)
    # The sign-in before this one, in Helsinki time (UTC+2 in March).
    previous = page.get_by_test_id("previous-login")
    expect(previous).to_contain_text("Previous sign-in")
    expect(previous).to_contain_text("2 Mar 2026")
    expect(previous).to_contain_text("10:15")

    company.click()
    navigation = page.get_by_role("banner").get_by_role("navigation")
    navigation.get_by_role("link", name="Users", exact=True).click()
    users_url = live_server.url + reverse("tenant_users", kwargs={"tenant_id": tenant.pk})
    expect(page).to_have_url(users_url)
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name=admin.email)).to_be_visible()

    # The header's language menu submits on change and comes back to the same page.
    with page.expect_navigation():
        page.locator("select[name=language]").select_option("fi")
    expect(page).to_have_url(users_url)
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("select[name=language]")).to_have_value("fi")
    expect(navigation.get_by_role("link", name="Käyttäjät", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Käyttäjät", level=1)).to_be_visible()
    expect(navigation.get_by_role("link", name="Yleiskatsaus", exact=True)).to_be_visible()
    expect(navigation.get_by_role("link", name="Users", exact=True)).to_have_count(0)

    # The choice sticks for the next page.
    navigation.get_by_role("link", name="Yleiskatsaus", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fi")


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    (width,) = struct.unpack(">I", data[16:20])
    return width


def test_member_dashboard_fits_a_phone_screen(new_page, live_server):
    with scopes_disabled():
        tenant = TenantFactory(name="Pohjois-Pohjanmaan Tilitoimisto ja Konsultointi Oy")
        member = MembershipFactory(tenant=tenant, role=Role.MEMBER).user

    page = new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    sign_in(page, member.username)

    # A member needs no second factor: straight to the dashboard.
    expect(page).to_have_url(live_server.url + reverse("dashboard"))
    expect(page.get_by_role("link", name=tenant.name)).to_be_visible()
    expect(page.get_by_test_id("previous-login")).to_contain_text("This is your first sign-in.")

    SCREENSHOTS.mkdir(exist_ok=True)
    screenshot = page.screenshot(path=SCREENSHOTS / "dashboard-phone.png", full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"the dashboard is {scroll_width}px wide on a phone"
    assert _png_width(screenshot) == PHONE["width"]


def test_admin_buys_a_seat_and_an_add_on_and_finds_the_order(
    new_page, live_server, settings, mailoutbox
):
    """Upgrades → Adjust features → Agreement → Confirm → the e-mail with the PDF → Order
    history, on the seed's day (2025-06-05 in the period 2025-05-01..2025-07-31)."""
    from io import BytesIO

    from pypdf import PdfReader

    from billing.contacts import billing_contact_add
    from severa import clock
    from subscriptions.models import OrderConfirmation
    from tests.factories import SubscriptionFactory

    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN, user__first_name="Aino").user
        SubscriptionFactory(tenant=tenant, seats=5)
        billing_contact_add(tenant=tenant, email="laskut@aalto.example", name="Laskut", actor=admin)
    device = totp_device(admin)

    with clock.frozen(datetime.date(2025, 6, 5)):
        page = new_page()
        sign_in(page, admin.username)
        page.get_by_label("Six-digit code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
        page.goto(reverse("tenant_upgrades", args=[tenant.pk]))
        expect(page.get_by_test_id("seats")).to_contain_text("1 of 5 in use")

        page.get_by_role("link", name="Adjust features").click()
        page.get_by_label("User seats").fill("6")
        page.get_by_role("button", name="Select Travel and expenses").click()
        expect(page.get_by_role("button", name="Deselect Travel and expenses")).to_be_visible()
        expect(page.get_by_label("User seats")).to_have_value("6")
        page.get_by_role("button", name="Next").click()

        # The Agreement page: a seat (30 × 3 × 57/92 = 55.76) and the add-on for six seats
        # (3 × 3 × 6 × 57/92 = 33.46), both for 2025-06-05..2025-07-31, with 25.5 % VAT.
        lines = page.get_by_test_id("agreement-lines")
        expect(lines).to_contain_text("€55.76")
        expect(lines).to_contain_text("€33.46")
        expect(lines).to_contain_text("5 Jun 2025 – 31 Jul 2025")
        expect(page.get_by_test_id("agreement-total")).to_have_text("€111.97")
        # Next full period: (30 × 6 + 3 × 6) × 3 = 594.00 + 151.47 VAT = 745.47.
        expect(page.get_by_test_id("next-period-total")).to_contain_text("€745.47")
        page.get_by_role("button", name="Confirm agreement").click()

        expect(page.get_by_role("status").first).to_contain_text("is confirmed")
        page.get_by_role("link", name="Order history").first.click()
        with scopes_disabled():
            order = OrderConfirmation.objects.get(tenant=tenant)
        row = page.get_by_role("row").filter(has_text=order.number)
        expect(row).to_contain_text("€111.97")

    # The billing contact got the confirmation with the PDF, whose text holds the lines and
    # the total.
    [message] = [m for m in mailoutbox if "laskut@aalto.example" in m.to]
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages)
    assert "Travel and expenses" in text
    assert "additional seats" in text
    assert "111.97" in text


def test_enter_in_user_seats_goes_to_the_agreement_and_selects_nothing(new_page, live_server):
    """Enter in "User seats" submits the form with its default action, Next: the Agreement
    shows the one seat added (30 × 3 × 57/92 = 55.76 + 14.22 VAT = 69.98) and no add-on."""
    from severa import clock
    from tests.factories import SubscriptionFactory

    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
        SubscriptionFactory(tenant=tenant, seats=5)
    device = totp_device(admin)

    with clock.frozen(datetime.date(2025, 6, 5)):
        page = new_page()
        sign_in(page, admin.username)
        page.get_by_label("Six-digit code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
        page.goto(reverse("tenant_adjust", args=[tenant.pk]))
        seats = page.get_by_label("User seats")
        seats.fill("6")
        seats.press("Enter")

        expect(page.get_by_role("heading", name="Agreement", exact=True)).to_be_visible()
        lines = page.get_by_test_id("agreement-lines")
        expect(lines.locator("tbody tr")).to_have_count(1)
        expect(lines).to_contain_text("€55.76")
        expect(page.get_by_test_id("agreement-total")).to_have_text("€69.98")


def test_the_adjust_page_estimates_as_the_admin_types(new_page, live_server):
    """Typing seats refreshes the estimate from the server (htmx, under the CSP): one seat
    more on 2025-06-05 is 55.76 + 14.22 VAT = 69.98 now, and (30 × 6) × 3 = 540.00 + 137.70
    = 677.70 each period from 1 Aug."""
    from severa import clock
    from subscriptions.models import Quote
    from tests.factories import SubscriptionFactory

    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
        SubscriptionFactory(tenant=tenant, seats=5)
    device = totp_device(admin)

    with clock.frozen(datetime.date(2025, 6, 5)):
        page = new_page()
        sign_in(page, admin.username)
        page.get_by_label("Six-digit code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
        page.goto(reverse("tenant_adjust", args=[tenant.pk]))
        expect(page.get_by_test_id("estimate-note")).to_contain_text("Change seats")
        page.get_by_label("User seats").fill("6")
        expect(page.get_by_test_id("estimate-now")).to_contain_text("€69.98")
        expect(page.get_by_test_id("estimate-period")).to_contain_text("€677.70")
        expect(page).to_have_url(live_server.url + reverse("tenant_adjust", args=[tenant.pk]))
    with scopes_disabled():
        assert not Quote.objects.exists()


def test_ending_a_collaboration_asks_first_and_cancel_changes_nothing(new_page, live_server):
    """One click on *End the collaboration* only opens the confirmation, which says what
    happens and from when; Cancel leads back with the collaboration standing; the
    confirmation's button ends it."""
    from accounts.models import Collaboration, CollaborationStatus
    from severa import clock
    from tests.factories import CollaborationFactory, PartnerFactory

    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
        partner = PartnerFactory(name="Tilitoimisto Numero Oy")
        CollaborationFactory(tenant=tenant, partner=partner)
    device = totp_device(admin)

    with clock.frozen(datetime.date(2026, 3, 2)):
        page = new_page()
        sign_in(page, admin.username)
        page.get_by_label("Six-digit code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
        partners_url = reverse("tenant_partners", args=[tenant.pk])
        page.goto(partners_url)
        end = page.get_by_role("button", name="End the collaboration Tilitoimisto Numero Oy")
        end.click()
        expect(
            page.get_by_role("heading", name="End the collaboration with Tilitoimisto Numero Oy?")
        ).to_be_visible()
        expect(page.get_by_test_id("consequences")).to_contain_text(
            "From today, 2 Mar 2026, Tilitoimisto Numero Oy has no access to this company."
        )
        page.get_by_role("link", name="Cancel").click()
        expect(page).to_have_url(live_server.url + partners_url)
        with scopes_disabled():
            assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE

        end.click()
        page.get_by_role("button", name="End the collaboration").click()
        expect(page.get_by_role("status").first).to_contain_text("has ended")
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.ENDED
