"""Seller migration (DESIGN §3.5), told as the Norwegian help-centre article tells it: the
Severa subscriptions of Severa Norge AS move to Visma Solutions Oy in cohorts by the start of
their next billing period (2025-04-01, 2025-05-01, 2025-06-01). Billing contacts are told in
advance, the invoices come from the new company in the same currency (NOK) with its own
number series and its Danske Bank Norge account, and the admins accept the new terms of
service at their first sign-in after the change.

Test catalog: Professional 340.00 NOK per seat per month.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, Role
from billing.migration import (
    SellerMigrationError,
    seller_migration_cancel,
    seller_migration_notify,
    seller_migration_schedule,
    seller_migrations_apply,
    seller_migrations_notify_due,
)
from billing.models import (
    BillingRun,
    Invoice,
    SellerBankAccount,
    SellerMigration,
    SellerMigrationItem,
    SellerMigrationItemStatus,
    SellerMigrationStatus,
    TermsAcceptance,
    TermsVersion,
)
from billing.runs import billing_run
from billing.terms import terms_pending
from severa import clock
from subscriptions.models import OrderConfirmation, OrderKind, Subscription
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import (
    PASSWORD,
    BillingContactFactory,
    MembershipFactory,
    SellerEntityFactory,
    TenantFactory,
    catalog_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped", "no_two_factor")]

COHORT = datetime.date(2025, 5, 1)
SCHEDULED_ON = datetime.date(2025, 3, 20)
NOTIFIED_ON = datetime.date(2025, 3, 25)


def _norge():
    seller = SellerEntityFactory(
        name="Severa Norge AS",
        business_id="974760673",
        vat_number="NO974760673MVA",
        street_address="Karenslyst allé 56",
        postal_code="0277",
        city="Oslo",
        country="NO",
        invoice_series="SN",
        terms_version="NO-2023",
        bank_accounts=[],
    )
    SellerBankAccount.objects.create(
        seller=seller, currency="NOK", iban="NO9386011117947", bic="DNBANOKK"
    )
    SellerBankAccount.objects.create(
        seller=seller, currency="DKK", iban="DK5000400440116243", bic="DABADKKK"
    )
    return seller


def _solutions():
    seller = SellerEntityFactory(
        name="Visma Solutions Oy",
        business_id="1967543-8",
        vat_number="FI19675438",
        street_address="Villimiehenkatu 10",
        postal_code="53100",
        city="Lappeenranta",
        country="FI",
        invoice_series="VS",
        terms_version="2025-03",
        bank_accounts=["EUR", "SEK"],
    )
    SellerBankAccount.objects.create(
        seller=seller, currency="NOK", iban="NO6681014453075", bic="DABANO22"
    )
    TermsVersion.objects.create(
        seller=seller,
        version="2025-03",
        title="Visma Solutions Oy: terms of service",
        text="The same terms of service you accepted for Visma.net.",
        url="https://www.visma.com/terms",
        published_on=datetime.date(2025, 3, 1),
    )
    return seller


def _norwegian_tenant(name, *, seller, start, months=3, currency="NOK", country="NO"):
    catalog_create()
    tenant = TenantFactory(
        name=name,
        country=country,
        business_id="923609016",
        vat_number="NO923609016MVA",
        language="nb",
    )
    admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
    with clock.frozen(start):
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency=currency,
            edition="professional",
            seats=3,
            storage_gb=10,
            period_months=months,
            first_period_start=start,
            actor=admin,
        )
    return tenant, admin


@pytest.fixture
def world(operator):
    norge, solutions = _norge(), _solutions()
    # In the 2025-05-01 cohort: a quarterly period 2025-02-01..2025-04-30.
    fjord, fjord_admin = _norwegian_tenant(
        "Fjord Prosjekt AS", seller=norge, start=datetime.date(2025, 2, 1)
    )
    BillingContactFactory(tenant=fjord, email="faktura@fjord.example", name="Regnskap")
    BillingContactFactory(tenant=fjord, user=fjord_admin, email="", name="")
    # Not in it: its next period starts 2025-06-01.
    bergen, _ = _norwegian_tenant("Bergen Bygg AS", seller=norge, start=datetime.date(2025, 3, 1))
    BillingContactFactory(tenant=bergen, email="post@bergen.example", name="Post")
    return {
        "norge": norge,
        "solutions": solutions,
        "fjord": fjord,
        "fjord_admin": fjord_admin,
        "bergen": bergen,
        "operator": operator,
    }


def _schedule(world, **kwargs):
    with clock.frozen(kwargs.pop("on", SCHEDULED_ON)):
        return seller_migration_schedule(
            from_seller=world["norge"],
            to_seller=world["solutions"],
            cohort_start=kwargs.pop("cohort_start", COHORT),
            actor=world["operator"],
            **kwargs,
        )


def _notify(migration, django_capture_on_commit_callbacks, on=NOTIFIED_ON):
    with clock.frozen(on), django_capture_on_commit_callbacks(execute=True):
        return seller_migration_notify(migration=migration)


def _subscription(tenant) -> Subscription:
    return Subscription.objects.select_related("seller").get(tenant=tenant)


def _login(client, user):
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _billing_run(first: datetime.date, last: datetime.date, capture) -> None:
    """The daily billing run (billing/runs.py) for each day, as the beat would run it; mail
    leaves after each day's commit."""
    with clock.frozen(last), capture(execute=True):
        billing_run(up_to=last, start=first, deliver=False)


def test_the_seed_cohort_moves_to_the_new_seller_with_notice_invoice_and_terms(
    world, client, django_capture_on_commit_callbacks
):
    fjord, bergen, norge, solutions = (
        world["fjord"],
        world["bergen"],
        world["norge"],
        world["solutions"],
    )
    # The activation order of February is invoiced by Severa Norge AS on Monday 3 February.
    _billing_run(
        datetime.date(2025, 2, 3), datetime.date(2025, 2, 3), django_capture_on_commit_callbacks
    )
    old_invoice = Invoice.objects.get(tenant=fjord)
    assert (old_invoice.seller, old_invoice.series) == (norge, "SN")

    # Given the operator schedules the 2025-05-01 cohort in March,
    migration = _schedule(world)
    items = list(migration.items.all())
    assert [(item.tenant, item.currency, item.status) for item in items] == [
        (fjord, "NOK", SellerMigrationItemStatus.SCHEDULED)
    ]

    # when the daily run reaches the notice date (30 days before: 2025-04-01),
    _billing_run(
        datetime.date(2025, 3, 31), datetime.date(2025, 3, 31), django_capture_on_commit_callbacks
    )
    assert mail.outbox == []
    _billing_run(
        datetime.date(2025, 4, 1), datetime.date(2025, 4, 2), django_capture_on_commit_callbacks
    )
    # then every billing contact of the tenant gets one message, in Norwegian dates,
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(["faktura@fjord.example", world["fjord_admin"].email])
    assert "Visma Solutions Oy" in message.subject
    for detail in (
        "Visma Solutions Oy",
        "1967543-8",
        "FI19675438",
        "Villimiehenkatu 10",
        "53100 Lappeenranta",
        "Finland",
        "IBAN: NO6681014453075",
        "BIC: DABANO22",
        "(NOK)",
        "1. mai 2025",
        "Severa Norge AS",
        "https://www.visma.com/terms",
    ):
        assert detail in message.body, detail
    item = SellerMigrationItem.objects.get(pk=items[0].pk)
    assert item.status == SellerMigrationItemStatus.NOTIFIED
    assert item.notice_recipients == message.to
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.NOTIFIED
    # and telling again (an operator's click, the run of another day) tells nobody twice.
    assert _notify(migration, django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1

    # The day before the cohort nothing moves, and the admin is not asked anything.
    _billing_run(
        datetime.date(2025, 4, 3), datetime.date(2025, 4, 30), django_capture_on_commit_callbacks
    )
    assert _subscription(fjord).seller == norge
    assert terms_pending(tenant=fjord) is None

    # On 2025-05-01 the run switches the subscription to the Finnish entity before the
    # rollover orders the new period,
    _billing_run(COHORT, COHORT, django_capture_on_commit_callbacks)
    rollover = BillingRun.objects.get(kind="rollover", run_date=COHORT)
    assert rollover.counts["seller_migration.switched"] == 1
    moved = _subscription(fjord)
    assert (moved.seller, moved.currency) == (solutions, "NOK")
    assert (moved.period_start, moved.period_end) == (COHORT, datetime.date(2025, 7, 31))
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.DONE
    assert AuditEvent.objects.filter(tenant=fjord, action="subscription.seller_changed").exists()
    # so the period's renewal order comes from the new entity;
    renewal = OrderConfirmation.objects.get(tenant=fjord, kind=OrderKind.RENEWAL)
    assert (renewal.seller, renewal.renewal_period_start, renewal.currency) == (
        solutions,
        COHORT,
        "NOK",
    )
    # the tenant outside the cohort is untouched,
    assert _subscription(bergen).seller == norge
    # and running the day again changes nothing.
    _billing_run(COHORT, COHORT, django_capture_on_commit_callbacks)
    assert OrderConfirmation.objects.filter(tenant=fjord, kind=OrderKind.RENEWAL).count() == 1

    # The next weekly run's invoice comes from the new entity too: its number series, its
    # NOK account at Danske Bank Norge, the same currency.
    monday = datetime.date(2025, 5, 5)
    _billing_run(datetime.date(2025, 5, 2), monday, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(tenant=fjord, invoice_date=monday)
    assert (invoice.seller, invoice.series, invoice.number) == (solutions, "VS", 1)
    assert invoice.currency == "NOK"
    assert invoice.seller_snapshot["name"] == "Visma Solutions Oy"
    assert (invoice.seller_snapshot["iban"], invoice.seller_snapshot["bic"]) == (
        "NO6681014453075",
        "DABANO22",
    )
    # 3 seats × 340.00 NOK × 3 months; a Finnish seller to a Norwegian business: outside
    # the scope of EU VAT.
    assert (invoice.net, invoice.vat, invoice.lines.get().vat_category) == (
        Decimal("3060.00"),
        Decimal("0.00"),
        "O",
    )
    assert invoice.lines.get().period_start == COHORT

    # At the admin's first sign-in after the switch, the new terms come first;
    with clock.frozen(datetime.datetime(2025, 5, 2, 8, 0, tzinfo=datetime.UTC)):
        _login(client, world["fjord_admin"])
        response = client.get(f"/t/{fjord.pk}/upgrades/")
        assert response.status_code == 302
        assert response["Location"].startswith(f"/t/{fjord.pk}/terms/?next=")
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "Visma Solutions Oy: terms of service" in page.content.decode()
        # every tenant page sends there until accepted;
        assert client.get(f"/t/{fjord.pk}/billing/").status_code == 302
        accepted = client.post(
            f"/t/{fjord.pk}/terms/", {"version": "2025-03", "next": f"/t/{fjord.pk}/upgrades/"}
        )
        assert accepted.status_code == 302
        assert accepted["Location"] == f"/t/{fjord.pk}/upgrades/"
    # the acceptance is recorded: who, when, which version,
    acceptance = TermsAcceptance.objects.get(tenant=fjord)
    assert (acceptance.user, acceptance.seller, acceptance.version) == (
        world["fjord_admin"],
        solutions,
        "2025-03",
    )
    assert acceptance.accepted_at == datetime.datetime(2025, 5, 2, 8, 0, tzinfo=datetime.UTC)
    # and then the admin gets through.
    assert client.get(f"/t/{fjord.pk}/upgrades/").status_code == 200
    assert terms_pending(tenant=fjord) is None


def test_a_replayed_run_notifies_and_switches_by_its_own_date(
    world, django_capture_on_commit_callbacks
):
    """`billing_run --date` replays past days: the notice and the switch follow the run's
    date, not the machine's (which is long after the cohort)."""
    _schedule(world)
    with django_capture_on_commit_callbacks(execute=True):
        billing_run(up_to=COHORT, start=datetime.date(2025, 4, 1), deliver=False)
    assert len(mail.outbox) == 1
    assert _subscription(world["fjord"]).seller == world["solutions"]


def test_switching_twice_switches_once(world, django_capture_on_commit_callbacks):
    migration = _schedule(world)
    _notify(migration, django_capture_on_commit_callbacks)
    version = _subscription(world["fjord"]).version
    assert seller_migrations_apply(on=datetime.date(2025, 4, 30))["switched"] == 0
    with clock.frozen(COHORT):
        assert seller_migrations_apply(on=COHORT) == {
            "switched": 1,
            "skipped": 0,
            "migrations_done": 1,
            "not_notified": 0,
        }
        assert seller_migrations_apply(on=COHORT)["switched"] == 0
    # A new version: a quote made for the old seller (its VAT) cannot be confirmed.
    assert _subscription(world["fjord"]).version == version + 1


def test_members_are_not_blocked_and_cannot_accept(
    world, client, django_capture_on_commit_callbacks
):
    fjord = world["fjord"]
    member = MembershipFactory(tenant=fjord, role=Role.MEMBER).user
    migration = _schedule(world)
    _notify(migration, django_capture_on_commit_callbacks)
    seller_migrations_apply(on=COHORT)
    assert terms_pending(tenant=fjord) is not None
    _login(client, member)
    assert client.get(f"/t/{fjord.pk}/").status_code == 200
    page = client.get(f"/t/{fjord.pk}/terms/")
    assert page.status_code == 200
    assert "Accept the terms of service" not in page.content.decode()
    assert client.post(f"/t/{fjord.pk}/terms/", {"version": "2025-03"}).status_code == 403
    assert not TermsAcceptance.objects.exists()


def test_the_terms_check_is_one_query_then_remembered_in_the_session(world, client):
    fjord = world["fjord"]
    _login(client, world["fjord_admin"])
    url = f"/t/{fjord.pk}/"

    def terms_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return sum("billing_termsversion" in query["sql"] for query in queries.captured_queries)

    assert terms_queries() == 1
    assert terms_queries() == 0


def test_a_cohort_in_a_currency_the_new_seller_has_no_account_in_is_refused(world):
    # A Danish customer of Severa Norge AS in DKK starts a period on 2025-06-01; Visma
    # Solutions Oy has no DKK account.
    danish, _ = _norwegian_tenant(
        "Dansk Design ApS",
        seller=world["norge"],
        start=datetime.date(2025, 3, 1),
        currency="DKK",
        country="DK",
    )
    with pytest.raises(SellerMigrationError) as refused:
        _schedule(world, cohort_start=datetime.date(2025, 6, 1))
    assert str(refused.value).startswith("Visma Solutions Oy has no bank account in DKK")
    assert "DKK (1 subscription)" in str(refused.value)
    assert not SellerMigration.objects.exists()
    assert not SellerMigrationItem.objects.exists()
    assert _subscription(danish).seller == world["norge"]


@pytest.mark.parametrize(
    ("cohort_start", "on", "message"),
    [
        (datetime.date(2025, 5, 2), SCHEDULED_ON, "A cohort starts on the 1st of a month"),
        (COHORT, datetime.date(2025, 4, 2), "Too late for 2025-05-01"),
        (datetime.date(2025, 7, 1), SCHEDULED_ON, "No active subscription of Severa Norge AS"),
    ],
)
def test_refused_cohorts_write_nothing(world, cohort_start, on, message):
    with pytest.raises(SellerMigrationError, match=message):
        _schedule(world, cohort_start=cohort_start, on=on)
    assert not SellerMigration.objects.exists()


def test_a_cohort_is_scheduled_once_and_a_subscription_waits_in_one_cohort(world):
    _schedule(world)
    with pytest.raises(SellerMigrationError, match="scheduled already"):
        _schedule(world)
    # Bergen (next period 2025-06-01) joins the June cohort; Fjord's next start after May
    # is August, and it waits in May's.
    june = _schedule(world, cohort_start=datetime.date(2025, 6, 1))
    assert [item.tenant for item in june.items.all()] == [world["bergen"]]


def test_a_monthly_subscription_joins_a_cohort_two_months_ahead(world):
    monthly, _ = _norwegian_tenant(
        "Månedlig AS", seller=world["norge"], start=datetime.date(2025, 3, 1), months=1
    )
    migration = _schedule(world)
    assert {item.tenant for item in migration.items.all()} == {world["fjord"], monthly}


def test_a_subscription_terminating_before_the_cohort_is_left_out(world):
    fjord = world["fjord"]
    subscription = _subscription(fjord)
    with clock.frozen(datetime.date(2025, 3, 10)):
        quote = quote_create(subscription=subscription, desired=Desired(terminate=True), actor=None)
        quote_confirm(quote=quote, actor=None)
    with pytest.raises(SellerMigrationError, match="No active subscription"):
        _schedule(world)


def test_the_notice_goes_out_automatically_when_due(world, django_capture_on_commit_callbacks):
    migration = _schedule(world)
    # Due 30 days before 2025-05-01: on 2025-04-01.
    with django_capture_on_commit_callbacks(execute=True):
        assert seller_migrations_notify_due(on=datetime.date(2025, 3, 31)) == {
            "migrations_notified": 0,
            "tenants_notified": 0,
        }
        with clock.frozen(datetime.date(2025, 4, 1)):
            assert seller_migrations_notify_due(on=datetime.date(2025, 4, 1)) == {
                "migrations_notified": 1,
                "tenants_notified": 1,
            }
    assert len(mail.outbox) == 1
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.NOTIFIED


def test_a_tenant_without_billing_contacts_is_told_at_its_admins(
    world, django_capture_on_commit_callbacks
):
    fjord = world["fjord"]
    fjord.language = "en"
    fjord.save(update_fields=["language"])
    fjord.billing_contacts.all().delete()
    migration = _schedule(world)
    _notify(migration, django_capture_on_commit_callbacks)
    assert mail.outbox[0].to == [world["fjord_admin"].email]
    assert "as an administrator" in mail.outbox[0].body
    assert migration.items.get().note == "No billing contacts: told the administrators."


def test_a_cohort_never_notified_does_not_switch(world):
    migration = _schedule(world)
    assert seller_migrations_apply(on=COHORT) == {
        "switched": 0,
        "skipped": 0,
        "migrations_done": 0,
        "not_notified": 1,
    }
    assert _subscription(world["fjord"]).seller == world["norge"]
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.SCHEDULED


def test_a_subscription_moved_meanwhile_is_skipped(world, django_capture_on_commit_callbacks):
    migration = _schedule(world)
    _notify(migration, django_capture_on_commit_callbacks)
    other = SellerEntityFactory(name="Third Oy")
    Subscription.objects.filter(tenant=world["fjord"]).update(seller=other)
    counts = seller_migrations_apply(on=COHORT)
    assert (counts["switched"], counts["skipped"]) == (0, 1)
    item = migration.items.get()
    assert (item.status, item.note) == (
        SellerMigrationItemStatus.SKIPPED,
        "The subscription has another seller now.",
    )
    assert _subscription(world["fjord"]).seller == other


def test_cancel_before_the_cohort_and_not_after(world, django_capture_on_commit_callbacks):
    migration = _schedule(world)
    with clock.frozen(SCHEDULED_ON):
        seller_migration_cancel(migration=migration, actor=world["operator"])
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.CANCELLED
    assert migration.items.get().status == SellerMigrationItemStatus.CANCELLED
    assert seller_migrations_apply(on=COHORT)["switched"] == 0
    # Cancelled, the same cohort can be scheduled again.
    again = _schedule(world)
    _notify(again, django_capture_on_commit_callbacks)
    with clock.frozen(COHORT), pytest.raises(SellerMigrationError, match="has started"):
        seller_migration_cancel(migration=again, actor=world["operator"])
    with clock.frozen(COHORT), pytest.raises(SellerMigrationError, match="not be in advance"):
        seller_migration_notify(migration=again)
