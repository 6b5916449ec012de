"""Quotes, confirmations, scheduled changes and licences on real rows (DESIGN §3.3).

The test catalog (tests.factories.TEST_EDITIONS …) prices Professional at 30.00 EUR, Business
at 46.00 EUR per seat per month; every expected amount is worked out beside it.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from accounts.models import Membership, Role
from severa import clock
from subscriptions.catalog import price_book_build, prices_valid_on
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    OrderConfirmation,
    OrderKind,
    Price,
    Quote,
    ScheduledChange,
    Subscription,
)
from subscriptions.pricebook import QuoteError
from subscriptions.quotes import TooFewSeatsError
from subscriptions.selectors import upcoming_period_price
from subscriptions.services import (
    Desired,
    LicenceError,
    QuoteConflictError,
    first_period_start_check,
    licence_activate,
    licence_deactivate,
    quote_confirm,
    quote_create,
    scheduled_change_cancel,
    subscription_create,
)
from tests.factories import MembershipFactory, SellerEntityFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture
def subscription(tenant, admin_user):
    with scopes_disabled():
        return SubscriptionFactory(tenant=tenant, seats=5)


def quote_and_confirm(subscription, by, **desired):
    quote = quote_create(subscription=subscription, desired=Desired(**desired), actor=by)
    return quote, quote_confirm(quote=quote, actor=by)


def test_the_seed_example_one_seat_added_on_2025_06_05(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
        [line] = quote.content["immediate_lines"]
        # 30.00 × 3 months × 1 seat × 57/92 = 55.760869… → 55.76
        assert line["net"] == "55.76"
        assert (line["period_start"], line["period_end"]) == ("2025-06-05", "2025-07-31")
        assert line["quantity"] == 1
        # FI seller, FI buyer: 25.5 % → 14.2188 → 14.22
        assert quote.content["immediate"] == {"net": "55.76", "vat": "14.22", "total": "69.98"}
        # The next full period: 30.00 × 3 × 6 = 540.00 + 25.5 % VAT 137.70.
        assert quote.content["next_period"]["total"] == "677.70"
        assert quote.content["next_period"]["start"] == "2025-08-01"

        order = quote_confirm(quote=quote, actor=admin_user)

    subscription.refresh_from_db()
    assert subscription.seats == 6
    assert subscription.version == 2
    assert order.kind == OrderKind.CHANGE
    assert order.total == Decimal("69.98")
    assert order.number == f"{subscription.tenant_id}-0001"
    [order_line] = order.lines.all()
    assert order_line.period_start == datetime.date(2025, 6, 5)
    assert order_line.net == Decimal("55.76")
    assert order.summary["next_period"]["total"] == "677.70"


def test_confirming_the_same_quote_twice_gives_one_order(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote = quote_create(subscription=subscription, desired=Desired(seats=7), actor=admin_user)
        first = quote_confirm(quote=quote, actor=admin_user)
        second = quote_confirm(quote=quote, actor=admin_user)
    assert first.pk == second.pk
    assert OrderConfirmation.objects.filter(tenant=subscription.tenant).count() == 1
    subscription.refresh_from_db()
    assert subscription.seats == 7


def test_a_quote_of_an_older_version_is_refused(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        stale = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
        quote_and_confirm(subscription, admin_user, seats=8)
        with pytest.raises(QuoteConflictError, match="changed since this quote"):
            quote_confirm(quote=stale, actor=admin_user)
    subscription.refresh_from_db()
    assert subscription.seats == 8
    assert OrderConfirmation.objects.count() == 1


def test_a_quote_is_confirmed_only_on_its_own_day(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
    next_day = SEED_DAY + datetime.timedelta(days=1)
    with clock.frozen(next_day), pytest.raises(QuoteConflictError, match="made on 2025-06-05"):
        quote_confirm(quote=quote, actor=admin_user)
    assert Quote.objects.get(pk=quote.pk).status == "open"


@pytest.mark.django_db(transaction=True)
def test_two_admins_confirming_different_quotes_at_once_lose_no_update(
    subscription, admin_user, unscoped
):
    """Two quotes against version 1 confirmed concurrently: one wins, the other is refused."""
    with clock.frozen(SEED_DAY):
        quotes = [
            quote_create(subscription=subscription, desired=Desired(seats=seats), actor=admin_user)
            for seats in (6, 9)
        ]
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm(quote):
        try:
            with scopes_disabled():
                barrier.wait()
                quote_confirm(quote=quote, actor=admin_user)
                outcomes.append("confirmed")
        except QuoteConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(quote,)) for quote in quotes]
    # The clock is process-wide: freeze it here, around the threads, not inside them.
    with clock.frozen(SEED_DAY):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["confirmed", "conflict"]
    subscription.refresh_from_db()
    assert subscription.version == 2
    assert subscription.seats in (6, 9)
    order = OrderConfirmation.objects.get()
    assert order.lines.get().quantity == subscription.seats - 5


def test_a_decrease_is_scheduled_for_the_next_period_and_can_be_cancelled(
    subscription, admin_user, unscoped
):
    with clock.frozen(datetime.date(2025, 7, 31)):  # the last day of the period
        quote, order = quote_and_confirm(subscription, admin_user, seats=3)
    assert quote.content["immediate_lines"] == []
    assert order.total == 0
    subscription.refresh_from_db()
    assert subscription.seats == 5  # nothing changes before the next period
    change = ScheduledChange.objects.get(status=ChangeStatus.SCHEDULED)
    assert (change.kind, change.value) == (ChangeKind.SEATS, "3")
    assert change.effective_date == datetime.date(2025, 8, 1)
    # The upcoming period is priced with the decrease: 30.00 × 3 months × 3 seats = 270.00.
    upcoming = upcoming_period_price(subscription=subscription)
    assert upcoming.net == Decimal("270.00")

    with clock.frozen(datetime.date(2025, 7, 31)):
        scheduled_change_cancel(change=change, actor=admin_user)
    change.refresh_from_db()
    assert change.status == ChangeStatus.CANCELLED
    assert upcoming_period_price(subscription=subscription).net == Decimal("450.00")


def test_a_scheduled_change_cannot_be_cancelled_once_effective(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote_and_confirm(subscription, admin_user, seats=4)
    change = ScheduledChange.objects.get()
    with clock.frozen(datetime.date(2025, 8, 1)), pytest.raises(QuoteError, match="took effect"):
        scheduled_change_cancel(change=change, actor=admin_user)


def test_a_later_agreement_supersedes_the_scheduled_changes(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote_and_confirm(subscription, admin_user, seats=3)
        # The planned state (3 seats next period) is the form's starting point: 4 is an
        # increase over the plan but still a decrease from today's 5.
        quote_and_confirm(subscription, admin_user, seats=4)
    statuses = list(ScheduledChange.objects.values_list("value", "status"))
    assert sorted(statuses) == [("3", ChangeStatus.SUPERSEDED), ("4", ChangeStatus.SCHEDULED)]


def test_seats_below_the_active_users_are_refused_with_the_number_to_deactivate(
    subscription, admin_user, unscoped
):
    MembershipFactory.create_batch(3, tenant=subscription.tenant)  # 4 active with the admin
    with clock.frozen(SEED_DAY), pytest.raises(TooFewSeatsError) as refused:
        quote_create(subscription=subscription, desired=Desired(seats=2), actor=admin_user)
    assert refused.value.users_to_deactivate == 2
    assert "Deactivate 2 users" in str(refused.value)


def test_termination_is_scheduled_and_blocks_other_changes_until_cancelled(
    subscription, admin_user, unscoped
):
    with clock.frozen(datetime.date(2025, 8, 1)):
        # Made the day after the period ended (the rollover has not run): one period later.
        subscription.period_start = datetime.date(2025, 8, 1)
        subscription.period_end = datetime.date(2025, 10, 31)
        subscription.save()
        quote, _ = quote_and_confirm(subscription, admin_user, terminate=True)
        change = ScheduledChange.objects.get(status=ChangeStatus.SCHEDULED)
        assert change.kind == ChangeKind.TERMINATION
        assert change.effective_date == datetime.date(2025, 11, 1)
        assert upcoming_period_price(subscription=subscription) is None
        with pytest.raises(QuoteError, match="cancel the termination"):
            quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)


def test_decrease_respects_the_partner_agreement_end(subscription, admin_user, unscoped):
    subscription.agreement_end = datetime.date(2026, 4, 30)
    subscription.save()
    with clock.frozen(SEED_DAY):
        quote_and_confirm(subscription, admin_user, seats=4)
    assert ScheduledChange.objects.get().effective_date == datetime.date(2026, 5, 1)


def test_edition_upgrade_with_seven_seats_mid_period(subscription, admin_user, unscoped):
    subscription.seats = 7
    subscription.save()
    with clock.frozen(SEED_DAY):
        quote, order = quote_and_confirm(subscription, admin_user, edition="business")
    [line] = quote.content["immediate_lines"]
    # (46.00 − 30.00) × 3 months × 7 seats × 57/92 = 208.173913… → 208.17
    assert line["net"] == "208.17"
    subscription.refresh_from_db()
    assert subscription.edition.code == "business"


def test_downgrade_names_the_add_ons_the_lower_edition_does_not_allow(
    subscription, admin_user, unscoped
):
    with clock.frozen(SEED_DAY):
        quote_and_confirm(subscription, admin_user, edition="business")
        quote_and_confirm(subscription, admin_user, add_ons=frozenset({"resource-planning"}))
        quote, _ = quote_and_confirm(subscription, admin_user, edition="professional")
    assert quote.content["removed_add_ons"] == ["Resource planning"]
    kinds = set(ScheduledChange.objects.filter(status="scheduled").values_list("kind", "value"))
    assert kinds == {("edition", "professional"), ("add_on", "resource-planning")}
    subscription.refresh_from_db()
    assert subscription.edition.code == "business"  # until the next period
    # The forced add-on removal cannot be cancelled while the downgrade stands.
    removal = ScheduledChange.objects.get(kind="add_on", status="scheduled")
    with clock.frozen(SEED_DAY), pytest.raises(QuoteError, match="cancel the edition change"):
        scheduled_change_cancel(change=removal, actor=admin_user)


def test_next_period_uses_the_prices_valid_when_it_starts(subscription, admin_user, unscoped):
    professional = Price.objects.get(edition__code="professional", currency="EUR")
    professional.valid_until = datetime.date(2025, 7, 31)
    professional.save()
    Price.objects.create(
        edition=professional.edition,
        currency="EUR",
        amount_per_month=Decimal("33.00"),
        valid_from=datetime.date(2025, 8, 1),
    )
    with clock.frozen(SEED_DAY):
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
    # Now at 30.00: 55.76 as in the seed example; next period at 33.00 × 3 × 6 = 594.00.
    assert quote.content["immediate"]["net"] == "55.76"
    assert quote.content["next_period"]["net"] == "594.00"


def test_where_price_ranges_overlap_the_latest_started_wins(subscription, unscoped):
    professional = Price.objects.get(edition__code="professional", currency="EUR")
    later = Price.objects.create(
        edition=professional.edition,
        currency="EUR",
        amount_per_month=Decimal("31.00"),
        valid_from=datetime.date(2025, 6, 1),
        valid_until=datetime.date(2025, 6, 30),
    )
    key = ("edition_id", professional.edition_id, "EUR")

    assert prices_valid_on(on=datetime.date(2025, 5, 31))[key] == professional
    assert prices_valid_on(on=datetime.date(2025, 6, 1))[key] == later
    assert prices_valid_on(on=datetime.date(2025, 6, 30), currency="EUR")[key] == later
    assert prices_valid_on(on=datetime.date(2025, 7, 1), currency="EUR")[key] == professional
    assert key not in prices_valid_on(on=datetime.date(2025, 6, 1), currency="SEK")
    book = price_book_build(currency="EUR", on=datetime.date(2025, 6, 15))
    assert book.edition_price_per_seat("professional") == Decimal("31.00")


def test_nothing_to_change_is_refused(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY), pytest.raises(QuoteError, match="Nothing to change"):
        quote_create(subscription=subscription, desired=Desired(seats=5), actor=admin_user)
    assert Quote.objects.count() == 0


def test_activating_beyond_the_seats_is_refused(subscription, admin_user, unscoped):
    subscription.seats = 2
    subscription.save()
    MembershipFactory(tenant=subscription.tenant)
    waiting = MembershipFactory(tenant=subscription.tenant, is_active=False)
    with pytest.raises(LicenceError, match="All 2 licences are in use"):
        licence_activate(membership=waiting, actor=admin_user)
    assert not Membership.objects.get(pk=waiting.pk).is_active

    other = Membership.objects.exclude(pk__in=[waiting.pk]).get(role=Role.MEMBER)
    licence_deactivate(membership=other, actor=admin_user)
    licence_activate(membership=waiting, actor=admin_user)
    assert Membership.objects.get(pk=waiting.pk).is_active


def test_activating_beyond_a_scheduled_seat_decrease_is_refused(subscription, admin_user, unscoped):
    with clock.frozen(SEED_DAY):
        quote_and_confirm(subscription, admin_user, seats=1)
    waiting = MembershipFactory(tenant=subscription.tenant, is_active=False)
    with pytest.raises(LicenceError, match="cancel the seat decrease"):
        licence_activate(membership=waiting, actor=admin_user)


def test_the_last_active_admin_cannot_be_deactivated(subscription, admin_user, unscoped):
    membership = Membership.objects.get(user=admin_user)
    with pytest.raises(LicenceError, match="last active administrator"):
        licence_deactivate(membership=membership, actor=admin_user)


def test_provisioning_a_migrated_tenant_orders_the_current_period(tenant, operator, unscoped):
    seller = SellerEntityFactory()
    from tests.factories import catalog_create

    catalog_create()
    with clock.frozen(SEED_DAY):
        subscription = subscription_create(
            tenant=tenant,
            seller=seller,
            currency="EUR",
            edition="business",
            seats=3,
            storage_gb=100,
            add_ons=frozenset({"power-bi"}),
            interfaces=frozenset({"fortnox"}),
            period_months=3,
            first_period_start=datetime.date(2025, 2, 1),
            actor=operator,
        )
    assert (subscription.period_start, subscription.period_end) == (
        datetime.date(2025, 5, 1),
        datetime.date(2025, 7, 31),
    )
    order = OrderConfirmation.objects.get(subscription=subscription)
    assert order.kind == OrderKind.ACTIVATION
    # 3 months × (46 × 3 seats + 35 storage + 99 Power BI + 49 Fortnox) = 3 × 321 = 963.00
    assert order.net == Decimal("963.00")
    assert Subscription.objects.count() == 1


def test_provisioning_refuses_a_currency_the_seller_has_no_account_in(tenant, unscoped):
    seller = SellerEntityFactory(bank_accounts=["EUR"])
    with pytest.raises(QuoteError, match="no bank account in SEK"):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency="SEK",
            edition="business",
            seats=3,
            storage_gb=50,
            period_months=1,
            first_period_start=datetime.date(2025, 6, 1),
            actor=None,
        )
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("start", "message"),
    [
        # SEED_DAY is 2025-06-05: a year ahead of June's 1st is 2026-06-01.
        (datetime.date(2026, 7, 1), "starts on 2026-06-01 at the latest"),
        (datetime.date(2025, 7, 2), "1st of a month"),
    ],
)
def test_provisioning_refuses_a_first_period_the_rule_forbids(tenant, unscoped, start, message):
    seller = SellerEntityFactory(bank_accounts=["EUR"])
    with clock.frozen(SEED_DAY), pytest.raises(QuoteError, match=message):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency="EUR",
            edition="business",
            seats=3,
            storage_gb=50,
            period_months=1,
            first_period_start=start,
            actor=None,
        )
    assert Subscription.objects.count() == 0


def test_a_year_ahead_is_the_last_first_period_allowed():
    today = datetime.date(2024, 2, 29)
    latest = datetime.date(2025, 2, 1)
    assert first_period_start_check(start=latest, today=today) == latest
    with pytest.raises(QuoteError):
        first_period_start_check(start=datetime.date(2025, 3, 1), today=today)


def test_a_price_change_reaches_the_next_quote_at_once(subscription, admin_user, unscoped):
    """Price books are kept between requests; changing a price must not leave a stale one."""
    from subscriptions.catalog import price_book

    with clock.frozen(SEED_DAY):
        assert (
            price_book(currency="EUR", on=SEED_DAY).edition("professional").price_per_seat_month
            == 30
        )
        price = Price.objects.get(edition__code="professional", currency="EUR")
        price.amount_per_month = Decimal("31.00")
        price.save()
        assert (
            price_book(currency="EUR", on=SEED_DAY).edition("professional").price_per_seat_month
            == 31
        )
        quote = quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)
    # 31.00 × 3 × 57/92 = 57.619… → 57.62
    assert quote.content["immediate"]["net"] == "57.62"


@pytest.mark.parametrize("storage_gb", [0, 7, 60])
def test_a_storage_size_that_is_neither_the_base_nor_a_tier_is_refused(
    subscription, admin_user, unscoped, storage_gb
):
    with clock.frozen(SEED_DAY), pytest.raises(QuoteError, match="choose one of 10 GB, 50 GB"):
        quote_create(
            subscription=subscription, desired=Desired(storage_gb=storage_gb), actor=admin_user
        )


def test_a_company_country_that_is_not_a_country_is_a_clear_refusal(
    subscription, admin_user, unscoped
):
    subscription.tenant.country = "XX"
    subscription.tenant.save()
    with clock.frozen(SEED_DAY), pytest.raises(QuoteError, match="VAT cannot be decided"):
        quote_create(subscription=subscription, desired=Desired(seats=6), actor=admin_user)


def test_a_termination_supersedes_the_scheduled_changes_only_while_it_stands(
    django_capture_on_commit_callbacks, unscoped
):
    """The demo's Finnish company (Business, quarterly, EUR, first period 2025-02-01..04-30):
    on 2025-03-10 it has 10 seats, Resource planning and Travel and expenses, 500 GB, and
    schedules 10 → 6 seats for 2025-05-01. The next period then costs
    6 × (45.00 + 6.00 + 3.00) × 3 = 972.00 + 500 GB 120.00 × 3 = 360.00 → 1,332.00 net,
    + 25.5 % VAT 339.66 = 1,671.66 (with 10 seats it would be 1,980.00 + 504.90 = 2,484.90).
    A termination lists the decrease on its Agreement; cancelling the termination restores the
    decrease, the 1,671.66, and sends an order confirmation of the withdrawal."""
    from django.core import mail

    from billing.rollover import subscription_rollover
    from partners.demo import demo_everything as demo_seed

    with clock.frozen(datetime.date(2025, 1, 15)):
        demo_seed()
    subscription = Subscription.objects.get(currency="EUR")
    day = datetime.date(2025, 3, 10)
    with clock.frozen(day):
        quote_and_confirm(
            subscription,
            None,
            seats=10,
            storage_gb=500,
            add_ons=frozenset({"resource-planning", "travel-expenses"}),
        )
        subscription.refresh_from_db()
        quote_and_confirm(subscription, None, seats=6)
        assert upcoming_period_price(subscription=subscription).total == Decimal("1671.66")

        termination_quote = quote_create(
            subscription=subscription, desired=Desired(terminate=True), actor=None
        )
        assert [
            (item["kind"], item["value"], item["effective_date"])
            for item in termination_quote.content["superseded"]
        ] == [(ChangeKind.SEATS, "6", "2025-05-01")]
        quote_confirm(quote=termination_quote, actor=None)
        assert upcoming_period_price(subscription=subscription) is None
        decrease = ScheduledChange.objects.get(kind=ChangeKind.SEATS)
        termination = ScheduledChange.objects.get(kind=ChangeKind.TERMINATION)
        assert decrease.status == ChangeStatus.SCHEDULED
        with pytest.raises(QuoteError, match="cancel the termination first"):
            scheduled_change_cancel(change=decrease, actor=None)

        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            scheduled_change_cancel(change=termination, actor=None)
        subscription.refresh_from_db()
        upcoming = upcoming_period_price(subscription=subscription)
        assert (upcoming.net, upcoming.vat, upcoming.total) == (
            Decimal("1332.00"),
            Decimal("339.66"),
            Decimal("1671.66"),
        )

    decrease.refresh_from_db()
    assert (decrease.status, decrease.value, decrease.effective_date) == (
        ChangeStatus.SCHEDULED,
        "6",
        datetime.date(2025, 5, 1),
    )
    withdrawal = OrderConfirmation.objects.filter(subscription=subscription).latest("sequence")
    assert (withdrawal.kind, withdrawal.made_on, withdrawal.total) == (
        OrderKind.CHANGE,
        day,
        Decimal("0.00"),
    )
    assert withdrawal.summary["withdrawn"][0]["kind"] == ChangeKind.TERMINATION
    assert [item["value"] for item in withdrawal.summary["scheduled"]] == ["6"]
    assert withdrawal.summary["next_period"]["total"] == "1671.66"
    # Every billing contact gets it, with its PDF, like every order confirmation.
    from billing.contacts import billing_contacts_list

    sent = [m for m in mail.outbox if withdrawal.number in m.subject]
    assert sorted(m.to[0] for m in sent) == sorted(
        contact.address for contact in billing_contacts_list(tenant=subscription.tenant)
    )
    assert all(m.attachments for m in sent)
    from tests.subscriptions.test_order_documents import pdf_text

    [(_name, pdf, _type)] = sent[0].attachments
    text = pdf_text(pdf)
    assert subscription.tenant.language == "fi"
    assert "Irtisanominen on peruttu: tilaus jatkuu." in text
    # The withdrawn termination, in the Finnish company's language like the whole order.
    assert "Tilauksen irtisanominen" in text
    assert "1 671,66 €" in text

    # On 2025-05-01 the decrease takes effect: the renewal orders 6 seats for 1,671.66.
    [renewal] = subscription_rollover(
        subscription=subscription, on=datetime.date(2025, 5, 1), deliver=False
    )
    assert renewal.total == Decimal("1671.66")
    subscription.refresh_from_db()
    assert subscription.seats == 6
