"""Reads kept until a table they come from changes (severa/table_versions.py), and the pages
that use them: a committed write by any path is seen by the next read, a transaction sees its
own writes, and nothing uncommitted is kept for others."""

from datetime import date

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.template import engines
from django_scopes import scopes_disabled

from accounts.models import Tenant
from severa import table_versions
from severa.bulk import bulk_insert
from severa.table_versions import versioned_read
from subscriptions.models import Subscription
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import MembershipFactory, SubscriptionFactory, TenantFactory, catalog_create


def _names(builds: list) -> list[str]:
    def build() -> list[str]:
        builds.append(1)
        return sorted(Tenant.objects.values_list("name", flat=True))

    return versioned_read("test:tenant-names", [Tenant], build)


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('INSERT INTO "accounts_tenant" ("name") VALUES (%s)', {"accounts_tenant"}),
        ('UPDATE "billing_invoice" SET "status" = %s WHERE "id" = %s', {"billing_invoice"}),
        ('DELETE FROM "accounts_membership" WHERE "id" IN (%s)', {"accounts_membership"}),
        ("TRUNCATE accounts_tenant, accounts_user", {"accounts_tenant"}),
        (
            'INSERT INTO "a" ("x") VALUES (1) ON CONFLICT ("x") DO UPDATE SET "x" = 2',
            {"a"},
        ),
        (
            'WITH moved AS (UPDATE "billing_invoice" SET "status" = 1 RETURNING id) '
            'INSERT INTO "billing_outboxmessage" SELECT id FROM moved',
            {"billing_invoice", "billing_outboxmessage"},
        ),
        ('CREATE TABLE "new_table" ("id" integer)', {table_versions.EVERYTHING}),
        ('SELECT "id" FROM "billing_invoice" WHERE "id" = 1 FOR UPDATE', set()),
        ("SAVEPOINT s1", set()),
        ('WITH t AS (SELECT 1) SELECT * FROM "billing_invoice"', set()),
    ],
)
def test_the_tables_a_statement_writes_are_read_off_it(sql, tables):
    assert table_versions._tables_of_write(sql) >= tables
    if not tables:
        assert table_versions._tables_of_write(sql) == frozenset()


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_by_any_path_is_seen_by_the_next_read():
    builds: list = []
    TenantFactory(name="Aalto Oy")
    assert _names(builds) == ["Aalto Oy"]
    assert _names(builds) == ["Aalto Oy"]
    assert len(builds) == 1  # kept

    TenantFactory(name="Borealis Ab")  # save()
    assert _names(builds) == ["Aalto Oy", "Borealis Ab"]
    Tenant.objects.filter(name="Aalto Oy").update(name="Aalto Group Oy")  # update()
    assert _names(builds) == ["Aalto Group Oy", "Borealis Ab"]
    with connection.cursor() as cursor:  # a raw statement
        cursor.execute(
            "UPDATE accounts_tenant SET name = %s WHERE name = %s", ["B Ab", "Borealis Ab"]
        )
    assert _names(builds) == ["Aalto Group Oy", "B Ab"]
    bulk_insert([Tenant(name="Copied Oy", country="FI")])  # COPY, outside Django's cursor
    assert _names(builds) == ["Aalto Group Oy", "B Ab", "Copied Oy"]
    assert len(builds) == 5


@pytest.mark.django_db(transaction=True)
def test_a_transaction_reads_its_own_writes_and_keeps_nothing_for_others():
    builds: list = []
    TenantFactory(name="Aalto Oy")
    assert _names(builds) == ["Aalto Oy"]
    with pytest.raises(RuntimeError), transaction.atomic():
        TenantFactory(name="Uncommitted Oy")
        assert _names(builds) == ["Aalto Oy", "Uncommitted Oy"]  # its own write
        raise RuntimeError("rolled back")
    assert _names(builds) == ["Aalto Oy"]
    with transaction.atomic():
        TenantFactory(name="Borealis Ab")
        assert _names(builds) == ["Aalto Oy", "Borealis Ab"]
        # Until the commit, another process still reads the kept entry.
    assert _names(builds) == ["Aalto Oy", "Borealis Ab"]


@pytest.mark.django_db
def test_a_read_of_an_undeclared_table_is_refused_in_tests():
    def build() -> int:
        with scopes_disabled():
            return Subscription.objects.count()

    with pytest.raises(ImproperlyConfigured, match="subscriptions_subscription"):
        versioned_read("test:undeclared", [Tenant], build)


@pytest.mark.django_db(transaction=True)
def test_a_kept_fragment_carries_each_request_s_own_csrf_token():
    TenantFactory(name="Aalto Oy")
    template = engines["django"].from_string(
        '{% load kept %}{% kept "test" name sources="accounts.Tenant" %}'
        "<form>{% csrf_token %}</form>{{ name }}{% endkept %}"
    )
    first = template.render({"name": "x", "csrf_token": "tokenone"})
    second = template.render({"name": "x", "csrf_token": "tokentwo"})
    assert 'value="tokenone"' in first
    assert 'value="tokentwo"' in second
    assert "placeholder" not in first + second


@pytest.fixture
def subscribed(transactional_db, verified_client):
    with scopes_disabled():
        catalog_create()
        tenant = TenantFactory()
        admin = MembershipFactory(tenant=tenant, role="admin").user
        subscription = SubscriptionFactory(
            tenant=tenant,
            seats=5,
            period_months=12,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        )
    return tenant, admin, subscription, verified_client(admin)


def test_the_upgrades_page_shows_a_confirmed_change_at_once(subscribed, settings):
    tenant, admin, subscription, client = subscribed
    settings.SEVERA_TODAY = date(2026, 12, 7)
    page = f"/t/{tenant.pk}/upgrades/"
    assert "1 of 5 in use" in client.get(page).content.decode()
    assert "1 of 5 in use" in client.get(page).content.decode()  # kept
    with scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=9), actor=admin)
        quote_confirm(quote=quote, actor=admin)
        MembershipFactory(tenant=tenant)
    assert "2 of 9 in use" in client.get(page).content.decode()


def test_a_request_reads_the_user_and_membership_in_one_round_trip(subscribed, settings):
    tenant, _admin, _subscription, client = subscribed
    settings.SEVERA_TODAY = date(2026, 12, 7)
    client.get(f"/t/{tenant.pk}/upgrades/")
    sent: list[str] = []
    original = cache.get_many

    def counting(keys, *args, **kwargs):
        sent.append(",".join(keys))
        return original(keys, *args, **kwargs)

    cache.get_many = counting
    try:
        client.get(f"/t/{tenant.pk}/upgrades/")
    finally:
        del cache.get_many
    assert any("accounts:membership" in keys and "accounts:user" in keys for keys in sent)


@pytest.mark.django_db(transaction=True)
def test_a_price_changed_by_any_path_reaches_the_next_price_book():
    from decimal import Decimal

    from subscriptions.catalog import price_book
    from subscriptions.models import Price

    catalog_create()
    on = date(2026, 12, 7)
    code = price_book(currency="EUR", on=on).editions[0].code
    before = price_book(currency="EUR", on=on).edition(code).price_per_seat_month
    assert price_book(currency="EUR", on=on) is price_book(
        currency="EUR", on=on
    )  # kept by this process
    Price.objects.filter(edition__code=code, currency="EUR").update(
        amount_per_month=before + Decimal("1.00")
    )  # no save signal is sent
    assert price_book(currency="EUR", on=on).edition(code).price_per_seat_month == before + Decimal(
        "1.00"
    )
    with transaction.atomic():
        Price.objects.filter(edition__code=code, currency="EUR").update(amount_per_month=before)
        # Inside the transaction that changed it, its own price; kept nowhere.
        assert price_book(currency="EUR", on=on).edition(code).price_per_seat_month == before
