"""The Upgrades pages: Adjust features, Change edition, the Agreement page, scheduled changes,
and licences on the Users page."""

import datetime
import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import Membership
from severa import clock
from subscriptions.models import OrderConfirmation, Quote, ScheduledChange
from tests.factories import MembershipFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture
def subscription(tenant):
    with scopes_disabled():
        return SubscriptionFactory(tenant=tenant, seats=5)


@pytest.fixture
def signed_in(verified_client, admin_user):
    return verified_client(admin_user)


def url(name, tenant, *args):
    return reverse(name, args=[tenant.pk, *args])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_upgrades_page_shows_the_subscription(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        response = signed_in.get(url("tenant_upgrades", tenant))
    page = text(response)
    assert "Professional edition" in page
    assert "1 of 5 in use" in page
    # Next period 2025-08-01..10-31: 30.00 × 3 × 5 = 450.00 + 25.5 % = 564.75
    assert "€564.75" in page
    assert "No changes are scheduled." in page


def test_upgrades_without_a_subscription_is_an_empty_state(signed_in, tenant):
    response = signed_in.get(url("tenant_upgrades", tenant))
    assert "no subscription yet" in text(response)
    assert signed_in.get(url("tenant_adjust", tenant)).status_code == 404


def test_the_adjust_forms_default_button_is_next(signed_in, tenant, subscription):
    """A browser submits a form on Enter with its first submit button: that must be Next,
    never a Select/Deselect of an add-on or interface (the real browser test is in
    tests/browser)."""
    from lxml import html

    with clock.frozen(SEED_DAY):
        page = html.fromstring(signed_in.get(url("tenant_adjust", tenant)).content)
    [form] = page.xpath("//form[.//input[@name='seats']]")
    buttons = form.xpath(".//button[not(@type) or @type='submit'] | .//input[@type='submit']")
    assert (buttons[0].get("name"), buttons[0].get("value")) == ("next", "1")
    assert [b.get("name") for b in buttons[1:]].count("toggle") >= 1


def test_adjust_agreement_confirm(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        form = signed_in.get(url("tenant_adjust", tenant))
        assert 'value="5"' in text(form)
        # Select an add-on: the form comes back with it selected.
        toggled = signed_in.post(
            url("tenant_adjust", tenant),
            {"seats": "6", "storage_gb": "10", "toggle": "add_on:travel-expenses"},
        )
        assert toggled.status_code == 200
        assert 'name="add_ons" value="travel-expenses"' in text(toggled)
        assert 'value="6"' in text(toggled)

        response = signed_in.post(
            url("tenant_adjust", tenant),
            {"seats": "6", "storage_gb": "10", "add_ons": ["travel-expenses"], "next": "1"},
        )
        with scopes_disabled():
            quote = Quote.objects.get()
        assert response.url == url("tenant_agreement", tenant, quote.pk)
        agreement = text(signed_in.get(response.url))
        # Seat: 30 × 3 × 1 × 57/92 = 55.76; travel: 3 × 3 × 6 × 57/92 = 33.46 (33.456…)
        assert "€55.76" in agreement
        assert "€33.46" in agreement
        assert "5 Jun 2025 – 31 Jul 2025" in agreement
        # 89.22 + 25.5 % (22.75) = 111.97
        assert "€111.97" in agreement
        confirmed = signed_in.post(response.url)
    with scopes_disabled():
        order = OrderConfirmation.objects.get()
        assert order.total.to_eng_string() == "111.97"
    assert confirmed.url == url("tenant_order_detail", tenant, order.pk)
    # The Agreement of a confirmed quote leads to its order; no second order is possible.
    with clock.frozen(SEED_DAY):
        again = signed_in.post(url("tenant_agreement", tenant, quote.pk))
    assert again.status_code == 302
    with scopes_disabled():
        assert OrderConfirmation.objects.count() == 1


def _estimate(response) -> str:
    from lxml import html

    [section] = html.fromstring(response.content).xpath("//*[@data-testid='estimate']")
    return re.sub(r"\s+", " ", section.text_content()).strip()


def test_adjust_shows_the_storage_prices_and_a_running_estimate(signed_in, tenant, subscription):
    """The estimate is the Agreement's figures for the choices so far; nothing is quoted."""
    adjust = url("tenant_adjust", tenant)
    with clock.frozen(SEED_DAY):
        first = signed_in.get(adjust)
        # Each storage tier above the included base with its monthly price.
        assert '<option value="50">50 GB, €20.00 per month</option>' in text(first)
        assert '<option value="500">500 GB, €120.00 per month</option>' in text(first)
        assert "Change seats, storage, add-ons or interfaces to see what it costs." in _estimate(
            first
        )
        # One seat more and Travel and expenses for six: charged now 55.76 + 33.46 = 89.22
        # + 25.5 % = 111.97 until 31 Jul; each next period (30 × 6 + 3 × 6) × 3 = 594.00
        # + 151.47 = 745.47.
        increase = signed_in.post(
            adjust,
            {"seats": "6", "storage_gb": "10", "add_ons": ["travel-expenses"], "estimate": "1"},
        )
        assert increase.status_code == 200
        estimate = _estimate(increase)
        assert "Charged now €111.97 (€89.22 + VAT, until 31 Jul 2025)" in estimate
        assert "Each period from 1 Aug 2025 – 31 Oct 2025 €745.47 (€594.00 + VAT)" in estimate
        # A decrease is charged nothing now and takes effect with the next period:
        # 30 × 4 × 3 = 360.00 + 91.80 = 451.80.
        decrease = signed_in.post(adjust, {"seats": "4", "storage_gb": "10", "estimate": "1"})
        estimate = _estimate(decrease)
        assert "Charged now Nothing is charged now." in estimate
        assert "From 1 Aug 2025" in estimate
        assert "€451.80" in estimate
        invalid = signed_in.post(adjust, {"seats": "0", "storage_gb": "10", "estimate": "1"})
        assert "Correct the marked fields to see what the change costs." in _estimate(invalid)
        signed_in.post("/i18n/setlang/", {"language": "fi", "next": "/"})
        finnish = signed_in.post(adjust, {"seats": "6", "storage_gb": "50", "estimate": "1"})
        assert '<option value="100">100 GB, 35,00 € kuukaudessa</option>' in text(finnish)
    with scopes_disabled():
        assert Quote.objects.count() == 0


def test_a_refused_confirm_keeps_the_choices_in_a_new_agreement(
    signed_in, tenant, subscription, admin_user
):
    """Another admin confirmed 8 seats after this Agreement (6 seats and Travel and expenses)
    was made: confirming it is refused, and the same choices come back as a new Agreement
    priced against 8 seats: the add-on now for the 8 seats of the rest of the period
    (3 × 3 × 8 × 57/92 = 44.61 + 25.5 % = 55.99), seats down to 6 from 1 Aug."""
    from subscriptions.services import Desired, quote_confirm, quote_create

    adjust = url("tenant_adjust", tenant)
    with clock.frozen(SEED_DAY):
        made = signed_in.post(
            adjust, {"seats": "6", "storage_gb": "10", "add_ons": ["travel-expenses"], "next": "1"}
        )
        with scopes_disabled():
            mine = Quote.objects.get()
            other = quote_create(
                subscription=subscription, desired=Desired(seats=8), actor=admin_user
            )
            quote_confirm(quote=other, actor=admin_user)
        refused = signed_in.post(made.url, follow=True)
    with scopes_disabled():
        renewed = Quote.objects.exclude(pk__in=[mine.pk, other.pk]).get()
        assert OrderConfirmation.objects.count() == 1
        assert Quote.objects.get(pk=mine.pk).status == "open"
    assert refused.redirect_chain == [(url("tenant_agreement", tenant, renewed.pk), 302)]
    assert renewed.desired == mine.desired
    page = text(refused)
    assert "Here is a new Agreement for the same choices" in page
    assert "quote" not in re.sub(r"<[^>]+>", " ", page).lower()
    assert "€55.99" in page
    assert "from 1 Aug 2025" in page
    # The new one confirms.
    with clock.frozen(SEED_DAY):
        confirmed = signed_in.post(url("tenant_agreement", tenant, renewed.pk))
    with scopes_disabled():
        assert OrderConfirmation.objects.count() == 2
    assert "/orders/" in confirmed.url


def test_an_agreement_of_yesterday_offers_a_new_one_for_the_same_choices(
    signed_in, tenant, subscription
):
    with clock.frozen(SEED_DAY):
        made = signed_in.post(
            url("tenant_adjust", tenant), {"seats": "7", "storage_gb": "10", "next": "1"}
        )
    next_day = SEED_DAY + datetime.timedelta(days=1)
    with clock.frozen(next_day):
        stale = text(signed_in.get(made.url))
        assert "This Agreement is out of date" in stale
        assert "Confirm agreement" not in stale
        renewed = signed_in.post(made.url, {"renew": "1"})
    with scopes_disabled():
        [old, new] = Quote.objects.order_by("pk")
        assert OrderConfirmation.objects.count() == 0
    assert renewed.url == url("tenant_agreement", tenant, new.pk)
    assert (new.made_on, new.desired) == (next_day, old.desired)


def test_an_invalid_seat_count_is_shown_and_nothing_quoted(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        response = signed_in.post(
            url("tenant_adjust", tenant), {"seats": "0", "storage_gb": "10", "next": "1"}
        )
    assert response.status_code == 200
    assert "Give 1 or more." in text(response)
    with scopes_disabled():
        assert Quote.objects.count() == 0


def test_a_refused_quote_shows_its_reason(signed_in, tenant, subscription):
    with scopes_disabled():
        MembershipFactory.create_batch(3, tenant=tenant)  # 4 active users
    with clock.frozen(SEED_DAY):
        response = signed_in.post(
            url("tenant_adjust", tenant),
            {"seats": "2", "storage_gb": "10", "next": "1"},
            follow=True,
        )
    assert "Deactivate 2 users before reducing seats to 2" in text(response)


def test_change_edition_and_cancel_the_scheduled_downgrade(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        response = signed_in.post(url("tenant_edition", tenant), {"edition": "business"})
        signed_in.post(response.url)
        response = signed_in.post(url("tenant_edition", tenant), {"edition": "professional"})
        agreement = text(signed_in.get(response.url))
        assert "Nothing is charged now." in agreement
        signed_in.post(response.url)
        page = text(signed_in.get(url("tenant_upgrades", tenant)))
        assert "Edition Business to Professional" in page
        with scopes_disabled():
            change = ScheduledChange.objects.get(status="scheduled")
        signed_in.post(url("tenant_scheduled_change_cancel", tenant, change.pk))
        page = text(signed_in.get(url("tenant_upgrades", tenant)))
    assert "No changes are scheduled." in page
    assert "Business edition" in page


def test_termination_goes_through_the_agreement(signed_in, tenant, subscription):
    with clock.frozen(SEED_DAY):
        response = signed_in.post(url("tenant_terminate", tenant))
        agreement = text(signed_in.get(response.url))
        assert "Termination of the subscription" in agreement
        signed_in.post(response.url)
        page = text(signed_in.get(url("tenant_upgrades", tenant)))
    assert "The subscription ends with this period." in page


def test_a_termination_lists_the_decrease_it_supersedes_and_cancelling_it_restores_it(
    signed_in, tenant, subscription, admin_user
):
    from subscriptions.services import Desired, quote_confirm, quote_create

    with clock.frozen(SEED_DAY), scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=4), actor=admin_user)
        quote_confirm(quote=quote, actor=admin_user)
    with clock.frozen(SEED_DAY):
        response = signed_in.post(url("tenant_terminate", tenant))
        agreement = text(signed_in.get(response.url))
        assert "Scheduled changes superseded by the termination" in agreement
        assert '<ul data-testid="agreement-superseded"><li>Seats 5 to 4 — from 1 Aug 2025</li>' in (
            agreement
        )
        signed_in.post(response.url)
        page = text(signed_in.get(url("tenant_upgrades", tenant)))
        assert "Superseded by the termination while it stands" in page
        with scopes_disabled():
            termination = ScheduledChange.objects.get(kind="termination")
        signed_in.post(url("tenant_scheduled_change_cancel", tenant, termination.pk))
        page = text(signed_in.get(url("tenant_upgrades", tenant)))
    assert "Superseded by the termination" not in page
    assert "The subscription ends with this period." not in page
    with scopes_disabled():
        assert ScheduledChange.objects.get(status="scheduled").value == "4"


def test_a_member_cannot_open_upgrades(client, member_user, tenant, subscription):
    client.force_login(member_user)
    assert client.get(url("tenant_upgrades", tenant)).status_code == 403


def test_users_page_refuses_activation_beyond_the_seats(signed_in, tenant, subscription):
    with scopes_disabled():
        subscription.seats = 1
        subscription.save()
        waiting = MembershipFactory(tenant=tenant, is_active=False)
    response = signed_in.post(
        url("tenant_membership_licence", tenant, waiting.pk), {"action": "activate"}, follow=True
    )
    page = text(response)
    assert "The only licence is in use: buy more seats or deactivate a user first" in page
    assert "Buy more seats" in page
    with scopes_disabled():
        assert not Membership.objects.get(pk=waiting.pk).is_active
        subscription.seats = 2
        subscription.save()
    signed_in.post(url("tenant_membership_licence", tenant, waiting.pk), {"action": "activate"})
    with scopes_disabled():
        assert Membership.objects.get(pk=waiting.pk).is_active


def test_a_refusal_reaches_a_finnish_page_in_finnish_with_its_numbers(
    signed_in, tenant, subscription
):
    with scopes_disabled():
        subscription.seats = 2
        subscription.save()
        MembershipFactory(tenant=tenant)  # the second active user
        waiting = MembershipFactory(tenant=tenant, is_active=False)
    signed_in.cookies["django_language"] = "fi"
    response = signed_in.post(
        url("tenant_membership_licence", tenant, waiting.pk), {"action": "activate"}, follow=True
    )
    page = text(response)
    assert (
        "Kaikki 2 lisenssiä ovat käytössä: osta lisää käyttäjälisenssejä tai poista ensin "
        "käyttäjä käytöstä"
    ) in page
    assert "licences are in use" not in page
    with scopes_disabled():
        assert not Membership.objects.get(pk=waiting.pk).is_active


def test_a_refused_quote_reaches_a_swedish_page_in_swedish(signed_in, tenant, subscription):
    signed_in.cookies["django_language"] = "sv"
    with clock.frozen(SEED_DAY):
        response = signed_in.post(
            url("tenant_adjust", tenant), {"seats": "5", "storage_gb": "10", "next": "1"}
        )
    assert response.status_code == 200
    assert "Inget att ändra" in text(response)
    assert "Nothing to change" not in text(response)
    with scopes_disabled():
        assert not Quote.objects.exists()
