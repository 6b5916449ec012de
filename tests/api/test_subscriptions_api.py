"""The subscription API (DESIGN §3.1–3.3): catalog, sellers, provisioning, the subscription,
quotes and confirmations, scheduled changes and licences.

The test catalog (tests.factories.TEST_EDITIONS …) prices Professional at 30.00 EUR per seat
per month; every expected amount is worked out beside it. The seed period is
2025-05-01..2025-07-31 (92 days) and the clock stands at 2025-06-05 (57 days left).
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Invitation, Membership, Role, Tenant
from accounts.services import api_token_create
from billing.models import SellerBankAccount
from severa import clock
from subscriptions.models import (
    ChangeStatus,
    Edition,
    OrderConfirmation,
    Price,
    Quote,
    ScheduledChange,
    Subscription,
)
from tests.factories import (
    MembershipFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    catalog_create,
)

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


@pytest.fixture(autouse=True)
def _frozen_on_the_seed_day(no_two_factor):
    with clock.frozen(SEED_DAY):
        yield


def api_client(user) -> Client:
    _token, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def admin_api(admin_user):
    return api_client(admin_user)


@pytest.fixture
def operator_api(operator):
    return api_client(operator)


@pytest.fixture
def subscription(tenant, admin_user):
    with scopes_disabled():
        return SubscriptionFactory(tenant=tenant, seats=5)


@pytest.fixture
def other_subscription(other_tenant, other_admin):
    with scopes_disabled():
        return SubscriptionFactory(tenant=other_tenant, seats=5)


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def base(tenant) -> str:
    return f"/api/v1/tenants/{tenant.pk}"


# The catalog.


def test_the_catalog_lists_every_item_with_todays_prices(member_user):
    catalog_create()
    professional = Edition.objects.get(code="professional")
    # A price from next month is not today's price yet.
    Price.objects.create(
        edition=professional,
        currency="EUR",
        amount_per_month=Decimal("32.00"),
        valid_from=datetime.date(2025, 7, 1),
    )
    response = api_client(member_user).get("/api/v1/catalog")
    assert response.status_code == 200
    body = response.json()
    assert body["priced_on"] == "2025-06-05"
    assert [edition["code"] for edition in body["editions"]] == [
        "professional",
        "business",
        "enterprise",
    ]
    professional_row = body["editions"][0]
    assert professional_row | {"prices": None} == {
        "code": "professional",
        "name": "Professional",
        "rank": 1,
        "included_storage_gb": 10,
        "prices": None,
    }
    assert professional_row["prices"] == [
        {"currency": c, "amount_per_month": a, "valid_from": "2020-01-01", "valid_until": None}
        for c, a in [("DKK", "220.00"), ("EUR", "30.00"), ("NOK", "340.00"), ("SEK", "330.00")]
    ]
    power_bi = next(a for a in body["add_ons"] if a["code"] == "power-bi")
    assert power_bi["pricing"] == "flat"
    assert power_bi["minimum_edition"] == "business"
    assert power_bi["included_in"] == ["enterprise"]
    travel = next(a for a in body["add_ons"] if a["code"] == "travel-expenses")
    assert (travel["pricing"], travel["minimum_edition"], travel["included_in"]) == (
        "per_seat",
        None,
        [],
    )
    assert {i["code"]: i["system"] for i in body["interfaces"]} == {
        "fortnox": "fortnox",
        "visma-eekonomi": "visma_eekonomi",
        "visma-global": "visma_global",
        "visma-net": "visma_net",
    }
    assert [(t["code"], t["gigabytes"]) for t in body["storage_tiers"]] == [
        ("10gb", 10),
        ("50gb", 50),
        ("100gb", 100),
        ("500gb", 500),
    ]
    eur = next(p for p in body["storage_tiers"][1]["prices"] if p["currency"] == "EUR")
    assert eur["amount_per_month"] == "20.00"

    # From the new price's first day on, it is the one listed.
    with clock.frozen(datetime.date(2025, 7, 1)):
        later = api_client(member_user).get("/api/v1/catalog").json()
    eur_prices = [p for p in later["editions"][0]["prices"] if p["currency"] == "EUR"]
    assert eur_prices == [
        {
            "currency": "EUR",
            "amount_per_month": "32.00",
            "valid_from": "2025-07-01",
            "valid_until": None,
        }
    ]


def test_the_catalog_needs_a_signed_in_user(client):
    response = client.get("/api/v1/catalog")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


# Sellers.


def test_operators_list_sellers_with_a_code_and_their_bank_accounts(operator_api, admin_api):
    seller = SellerEntityFactory(business_id="2464491-9", bank_accounts=("EUR", "SEK"))
    response = operator_api.get("/api/v1/sellers")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["code"] == "2464491-9"
    assert row["name"] == seller.name
    assert row["country"] == "FI"
    assert row["currencies"] == ["EUR", "SEK"]
    assert {account["currency"] for account in row["bank_accounts"]} == {"EUR", "SEK"}
    assert row["bank_accounts"][0]["iban"] == "FI2112345600000785"

    refused = admin_api.get("/api/v1/sellers")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


# Provisioning.


@pytest.fixture
def seller():
    catalog_create()
    return SellerEntityFactory(business_id="2464491-9")


def provision_body(**changes) -> dict:
    return {
        "name": "Uusi Asiakas Oy",
        "country": "FI",
        "currency": "EUR",
        "business_id": "1572860-0",
        "vat_number": "FI 1572 8600",
        "admin_email": "Admin@Uusi.example",
        "seller": "2464491-9",
        "edition": "professional",
        "seats": 5,
        "add_ons": ["travel-expenses"],
        "interfaces": ["fortnox"],
        "period_months": 3,
        "first_period_start": "2025-05-01",
        **changes,
    }


def nothing_created(tenants_before: int) -> bool:
    with scopes_disabled():
        return (
            Tenant.objects.count() == tenants_before
            and not Subscription.objects.exists()
            and not Invitation.objects.exists()
            and not OrderConfirmation.objects.exists()
            # (the operator's API token is audited with no company)
            and not AuditEvent.objects.filter(tenant__isnull=False).exists()
        )


def test_an_operator_provisions_a_tenant_with_its_subscription(
    operator_api, operator, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(operator_api, "/api/v1/tenants", provision_body(), Idempotency_Key="p-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    tenant = Tenant.objects.get(pk=body["tenant"]["id"])
    assert (tenant.name, tenant.country, tenant.language) == ("Uusi Asiakas Oy", "FI", "fi")
    # Stored in the forms severa.identifiers gives them.
    assert (tenant.business_id, tenant.vat_number) == ("1572860-0", "FI15728600")
    subscription = body["subscription"]
    assert subscription | {"upcoming_period": None, "scheduled_changes": None} == {
        "edition": "professional",
        "edition_name": "Professional",
        "seats": 5,
        "active_users": 0,
        "storage_gb": 10,  # the edition's included storage
        "add_ons": ["travel-expenses"],
        "interfaces": ["fortnox"],
        "period_months": 3,
        # The first period started in the past: the subscription is in today's period.
        "period_start": "2025-05-01",
        "period_end": "2025-07-31",
        "currency": "EUR",
        "seller": "2464491-9",
        "agreement_end": None,
        "status": "active",
        "version": 1,
        "scheduled_changes": None,
        "upcoming_period": None,
    }
    assert subscription["upcoming_period"]["start"] == "2025-08-01"
    order = body["order"]
    assert order["kind"] == "activation"
    # Whole period: 5 × 30.00 × 3 = 450.00, travel 5 × 3.00 × 3 = 45.00, Fortnox 49.00 × 3 =
    # 147.00; net 642.00, VAT 25.5 % 163.71, total 805.71.
    assert [line["net"] for line in order["lines"]] == ["450.00", "45.00", "147.00"]
    assert (order["net"], order["vat"], order["total"]) == ("642.00", "163.71", "805.71")
    invitation = body["admin_invitation"]
    assert (invitation["email"], invitation["role"]) == ("admin@uusi.example", "admin")
    with scopes_disabled():
        assert Invitation.objects.get(tenant=tenant).invited_by == operator
        assert Subscription.objects.get(tenant=tenant).seller == seller
    # The invitation e-mail and the order confirmation go out after the commit (besides the
    # tables' new versions, severa/table_versions.py).
    assert len([c for c in callbacks if not hasattr(c, "table_versions")]) == 2


def test_storage_may_be_a_tier_and_a_first_period_may_be_ahead(operator_api, seller):
    body = provision_body(storage_gb=100, first_period_start="2025-09-01", period_months=12)
    response = post(operator_api, "/api/v1/tenants", body)
    assert response.status_code == 201, response.json()
    subscription = response.json()["subscription"]
    assert subscription["storage_gb"] == 100
    assert (subscription["period_start"], subscription["period_end"]) == (
        "2025-09-01",
        "2026-08-31",
    )


def test_provisioning_is_for_operators_only(admin_api, seller):
    before = Tenant.objects.count()
    response = post(admin_api, "/api/v1/tenants", provision_body(), Idempotency_Key="p-1")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert nothing_created(before)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"vat_number": "FI15728601"}, "vat_number", "Invalid checksum"),
        ({"vat_number": "SE556036079301"}, "vat_number", "Wrong country"),
        ({"business_id": "1572860-1"}, "business_id", "Invalid checksum"),
        ({"country": "XX"}, "country", "Not an ISO 3166 country code."),
        ({"seller": "0000000-0"}, "seller", "Unknown seller"),
        ({"edition": "platinum"}, "edition", "Unknown edition 'platinum'."),
        ({"add_ons": ["nope"]}, "add_ons", "Unknown add-ons: nope."),
        ({"add_ons": ["resource-planning"]}, "add_ons", "not available in the Professional"),
        ({"interfaces": ["nope"]}, "interfaces", "Unknown interfaces: nope."),
        ({"storage_gb": 60}, "storage_gb", "60 GB is neither a storage tier"),
        ({"seats": 0}, "seats", "greater than or equal to 1"),
        ({"period_months": 2}, "period_months", "not a valid choice"),
        ({"first_period_start": "2025-05-02"}, "first_period_start", "1st of a month"),
        (
            {"first_period_start": "2026-07-01"},
            "first_period_start",
            "At most a year ahead: the first period starts on",
        ),
        ({"currency": "DKK"}, "currency", "has no bank account in DKK"),
        ({"admin_email": "not-an-address"}, "admin_email", "valid email"),
    ],
)
def test_invalid_provisioning_is_a_400_per_field_and_creates_nothing(
    operator_api, seller, changes, field, message
):
    before = Tenant.objects.count()
    response = post(operator_api, "/api/v1/tenants", provision_body(**changes))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert message in " ".join(error["fields"][field])
    assert nothing_created(before)


def test_a_provisioning_replay_creates_one_tenant(operator_api, seller):
    first = post(operator_api, "/api/v1/tenants", provision_body(), Idempotency_Key="p-1")
    second = post(operator_api, "/api/v1/tenants", provision_body(), Idempotency_Key="p-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    other = post(
        operator_api, "/api/v1/tenants", provision_body(name="Toinen Oy"), Idempotency_Key="p-1"
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Tenant.objects.filter(name__in=["Uusi Asiakas Oy", "Toinen Oy"]).count() == 1


def test_a_refused_provisioning_can_be_retried_with_the_same_key(operator_api, seller):
    bad = post(
        operator_api, "/api/v1/tenants", provision_body(vat_number="FI1"), Idempotency_Key="k"
    )
    assert bad.status_code == 400
    good = post(operator_api, "/api/v1/tenants", provision_body(), Idempotency_Key="k")
    assert good.status_code == 201


# The subscription.


@pytest.mark.parametrize(("role", "expected"), [("admin", 200), ("billing", 200), ("member", 403)])
def test_the_subscription_is_read_by_admins_and_billing(tenant, subscription, role, expected):
    with scopes_disabled():
        user = MembershipFactory(tenant=tenant, role=role).user
    response = api_client(user).get(f"{base(tenant)}/subscription")
    assert response.status_code == expected


def test_the_subscription_shows_its_state_changes_and_the_upcoming_period(
    admin_api, tenant, subscription
):
    post(admin_api, f"{base(tenant)}/quotes", {"seats": 3})  # not confirmed: no effect
    quote = post(admin_api, f"{base(tenant)}/quotes", {"seats": 4}).json()
    post(admin_api, f"{base(tenant)}/quotes/{quote['id']}/confirm")

    response = admin_api.get(f"{base(tenant)}/subscription")
    assert response.status_code == 200
    body = response.json()
    assert (body["edition"], body["seats"], body["active_users"]) == ("professional", 5, 1)
    assert (body["period_start"], body["period_end"], body["version"]) == (
        "2025-05-01",
        "2025-07-31",
        2,
    )
    [change] = body["scheduled_changes"]
    assert (change["kind"], change["value"], change["effective_date"]) == (
        "seats",
        "4",
        "2025-08-01",
    )
    upcoming = body["upcoming_period"]
    assert (upcoming["start"], upcoming["end"]) == ("2025-08-01", "2025-10-31")
    # 4 seats × 30.00 × 3 months = 360.00; VAT 25.5 % = 91.80.
    assert upcoming["totals"] == {"net": "360.00", "vat": "91.80", "total": "451.80"}
    [line] = upcoming["lines"]
    assert (line["code"], line["quantity"], line["unit_price"]) == ("professional", 4, "30.00")
    assert upcoming["vat"] == {"category": "S", "rate": "25.50", "note": ""}


def test_a_tenant_without_a_subscription_is_a_clear_404(admin_api, tenant):
    for path in ("subscription", "quotes"):
        method = admin_api.get if path == "subscription" else admin_api.post
        response = method(f"{base(tenant)}/{path}", content_type="application/json")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "status": 404,
            "code": "no_subscription",
            "message": "This tenant has no subscription.",
        }


# Quotes and confirmations.


def test_the_seed_example_through_the_api(admin_api, tenant, subscription):
    response = post(admin_api, f"{base(tenant)}/quotes", {"seats": 6})
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert (quote["made_on"], quote["subscription_version"], quote["status"]) == (
        "2025-06-05",
        1,
        "open",
    )
    [line] = quote["lines"]
    # 30.00 × 3 months × 1 seat × 57/92 = 55.760869… → 55.76 (half-up)
    assert line == {
        "kind": "increase",
        "item_type": "seats",
        "code": "professional",
        "description": line["description"],
        "unit_price": "30.00",
        "quantity": 1,
        "period_start": "2025-06-05",
        "period_end": "2025-07-31",
        "net": "55.76",
        "vat_rate": "25.50",
        "vat_category": "S",
        "vat": "14.22",
        "total": "69.98",
    }
    assert quote["totals"] == {"net": "55.76", "vat": "14.22", "total": "69.98"}
    assert quote["changes"] == [
        {"description": line["description"], "effective_date": "2025-06-05", "is_charged_now": True}
    ]
    assert quote["scheduled_changes"] == []
    assert quote["effective_now"]["seats"] == quote["desired"]["seats"] == 6
    # The next full period: 30.00 × 3 × 6 = 540.00 + 25.5 % VAT 137.70.
    next_period = quote["next_period"]
    assert (next_period["start"], next_period["end"]) == ("2025-08-01", "2025-10-31")
    assert next_period["totals"] == {"net": "540.00", "vat": "137.70", "total": "677.70"}

    assert admin_api.get(f"{base(tenant)}/quotes/{quote['id']}").json() == quote

    confirm = f"{base(tenant)}/quotes/{quote['id']}/confirm"
    first = post(admin_api, confirm)
    assert first.status_code == 201, first.json()
    order = first.json()
    assert (order["kind"], order["total"], order["number"]) == (
        "change",
        "69.98",
        f"{tenant.pk}-0001",
    )
    [order_line] = order["lines"]
    assert (order_line["period_start"], order_line["net"]) == ("2025-06-05", "55.76")

    again = post(admin_api, confirm)
    assert again.status_code == 200
    assert again.json() == order
    with scopes_disabled():
        assert OrderConfirmation.objects.filter(tenant=tenant).count() == 1
        subscription.refresh_from_db()
    assert (subscription.seats, subscription.version) == (6, 2)
    assert admin_api.get(f"{base(tenant)}/quotes/{quote['id']}").json()["status"] == "confirmed"


def test_a_confirmation_replayed_by_idempotency_key_is_a_200_with_the_same_order(
    admin_api, tenant, subscription
):
    quote = post(admin_api, f"{base(tenant)}/quotes", {"seats": 6}).json()
    confirm = f"{base(tenant)}/quotes/{quote['id']}/confirm"
    first = post(admin_api, confirm, Idempotency_Key="c-1")
    second = post(admin_api, confirm, Idempotency_Key="c-1")
    # Only the call that created the order answers 201.
    assert (first.status_code, second.status_code) == (201, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    # Without the key, the repeat is the same 200 with the same order.
    third = post(admin_api, confirm)
    assert third.status_code == 200
    assert third.json() == first.json()
    with scopes_disabled():
        assert OrderConfirmation.objects.filter(tenant=tenant).count() == 1


def test_a_quote_overtaken_by_another_confirmation_is_a_409(admin_api, tenant, subscription):
    first = post(admin_api, f"{base(tenant)}/quotes", {"seats": 6}).json()
    second = post(admin_api, f"{base(tenant)}/quotes", {"seats": 8}).json()
    assert post(admin_api, f"{base(tenant)}/quotes/{second['id']}/confirm").status_code == 201

    response = post(admin_api, f"{base(tenant)}/quotes/{first['id']}/confirm")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "quote_conflict"
    assert "changed since this quote" in response.json()["error"]["message"]
    with scopes_disabled():
        subscription.refresh_from_db()
        assert OrderConfirmation.objects.filter(tenant=tenant).count() == 1
        assert Quote.objects.get(pk=first["id"]).status == "open"
    assert subscription.seats == 8


def test_a_quote_of_another_day_is_a_409(admin_api, tenant, subscription):
    quote = post(admin_api, f"{base(tenant)}/quotes", {"seats": 6}).json()
    with clock.frozen(SEED_DAY + datetime.timedelta(days=1)):
        response = post(admin_api, f"{base(tenant)}/quotes/{quote['id']}/confirm")
    assert response.status_code == 409
    assert "made on 2025-06-05" in response.json()["error"]["message"]


def test_a_decrease_is_scheduled_listed_and_can_be_cancelled(admin_api, tenant, subscription):
    quote = post(admin_api, f"{base(tenant)}/quotes", {"seats": 3}).json()
    assert quote["lines"] == []
    assert quote["totals"] == {"net": "0.00", "vat": "0.00", "total": "0.00"}
    [scheduled] = quote["scheduled_changes"]
    assert (scheduled["kind"], scheduled["value"], scheduled["effective_date"]) == (
        "seats",
        "3",
        "2025-08-01",
    )
    assert quote["changes"][0]["is_charged_now"] is False
    assert post(admin_api, f"{base(tenant)}/quotes/{quote['id']}/confirm").status_code == 201

    listed = admin_api.get(f"{base(tenant)}/scheduled-changes").json()["results"]
    assert [(c["kind"], c["value"], c["effective_date"]) for c in listed] == [
        ("seats", "3", "2025-08-01")
    ]
    change_id = listed[0]["id"]
    assert admin_api.get(f"{base(tenant)}/scheduled-changes/{change_id}").status_code == 200

    response = admin_api.delete(f"{base(tenant)}/scheduled-changes/{change_id}")
    assert response.status_code == 204
    assert admin_api.get(f"{base(tenant)}/scheduled-changes").json()["results"] == []
    with scopes_disabled():
        assert ScheduledChange.objects.get(pk=change_id).status == ChangeStatus.CANCELLED

    again = admin_api.delete(f"{base(tenant)}/scheduled-changes/{change_id}")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "change_not_cancellable"


def test_billing_users_read_scheduled_changes_but_do_not_cancel_them(
    admin_api, tenant, subscription
):
    quote = post(admin_api, f"{base(tenant)}/quotes", {"seats": 3}).json()
    post(admin_api, f"{base(tenant)}/quotes/{quote['id']}/confirm")
    with scopes_disabled():
        billing = api_client(MembershipFactory(tenant=tenant, role=Role.BILLING).user)
    [change] = billing.get(f"{base(tenant)}/scheduled-changes").json()["results"]
    assert billing.delete(f"{base(tenant)}/scheduled-changes/{change['id']}").status_code == 403
    assert billing.post(f"{base(tenant)}/quotes", {"seats": 9}).status_code == 403
    with scopes_disabled():
        assert ScheduledChange.objects.get(pk=change["id"]).status == ChangeStatus.SCHEDULED


def test_a_termination_is_scheduled_for_the_next_period(admin_api, tenant, subscription):
    response = post(admin_api, f"{base(tenant)}/quotes", {"terminate": True})
    assert response.status_code == 201
    quote = response.json()
    assert quote["terminate"] is True
    assert quote["next_period"] is None
    assert [(c["kind"], c["effective_date"]) for c in quote["scheduled_changes"]] == [
        ("termination", "2025-08-01")
    ]
    post(admin_api, f"{base(tenant)}/quotes/{quote['id']}/confirm")
    assert admin_api.get(f"{base(tenant)}/subscription").json()["upcoming_period"] is None


def test_seats_below_the_active_users_name_how_many_to_deactivate(admin_api, tenant, subscription):
    with scopes_disabled():
        MembershipFactory.create_batch(3, tenant=tenant)  # 4 active users with the admin
    response = post(admin_api, f"{base(tenant)}/quotes", {"seats": 2})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "too_few_seats"
    assert error["message"] == "Deactivate 2 users before reducing seats to 2"
    assert error["fields"] == {
        "seats": ["Deactivate 2 users before reducing seats to 2"],
        "users_to_deactivate": 2,
    }
    with scopes_disabled():
        assert not Quote.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"seats": 5}, 422, "quote_refused", None),  # nothing to change
        ({"edition": "platinum"}, 400, "invalid", "edition"),
        ({"add_ons": ["nope"]}, 400, "invalid", "add_ons"),
        ({"add_ons": ["resource-planning"]}, 422, "quote_refused", None),
        ({"storage_gb": 60}, 422, "quote_refused", None),
        ({"seats": 0}, 400, "invalid", "seats"),
        ({"terminate": True, "seats": 3}, 400, "invalid", "seats"),
    ],
)
def test_refused_quotes(admin_api, tenant, subscription, body, status, code, field):
    response = post(admin_api, f"{base(tenant)}/quotes", body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field:
        assert field in error["fields"]
    with scopes_disabled():
        assert not Quote.objects.exists()


def test_an_edition_upgrade_is_charged_pro_rata(admin_api, tenant, subscription):
    quote = post(admin_api, f"{base(tenant)}/quotes", {"edition": "business"}).json()
    # (46.00 − 30.00) × 3 months × 5 seats × 57/92 = 148.695… → 148.70
    assert [line["net"] for line in quote["lines"]] == ["148.70"]
    assert quote["effective_now"]["edition"] == "business"


# Licences.


def test_activating_beyond_the_seats_is_a_409(admin_api, tenant, subscription):
    with scopes_disabled():
        subscription.seats = 2
        subscription.save()
        MembershipFactory(tenant=tenant)  # the second active user
        waiting = MembershipFactory(tenant=tenant, is_active=False)
        active = Membership.objects.filter(tenant=tenant, is_active=True, role=Role.MEMBER).get()
    activate = f"{base(tenant)}/users/{waiting.pk}/activate"
    response = post(admin_api, activate)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_free_licence"
    assert "All 2 licences are in use" in response.json()["error"]["message"]
    with scopes_disabled():
        waiting.refresh_from_db()
    assert waiting.is_active is False

    deactivated = post(admin_api, f"{base(tenant)}/users/{active.pk}/deactivate")
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    response = post(admin_api, activate)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["is_active"]) == (waiting.pk, True)


def test_the_last_admin_cannot_be_deactivated(admin_api, tenant, admin_user, subscription):
    with scopes_disabled():
        membership = Membership.objects.get(tenant=tenant, user=admin_user)
    response = post(admin_api, f"{base(tenant)}/users/{membership.pk}/deactivate")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_admin"


# Another tenant's ids.


def test_another_tenants_ids_are_404(
    admin_api, tenant, subscription, other_tenant, other_admin, other_subscription
):
    other_api = api_client(other_admin)
    other_quote = post(other_api, f"{base(other_tenant)}/quotes", {"seats": 3}).json()
    post(other_api, f"{base(other_tenant)}/quotes/{other_quote['id']}/confirm")
    with scopes_disabled():
        other_change = ScheduledChange.objects.get(tenant=other_tenant)
        other_membership = Membership.objects.get(tenant=other_tenant)
        other_quote_row = Quote.objects.get(pk=other_quote["id"])
    own = base(tenant)
    requests = [
        ("get", f"{base(other_tenant)}/subscription"),
        ("post", f"{base(other_tenant)}/quotes"),
        ("get", f"{base(other_tenant)}/scheduled-changes"),
        ("get", f"{own}/quotes/{other_quote_row.pk}"),
        ("post", f"{own}/quotes/{other_quote_row.pk}/confirm"),
        ("get", f"{own}/scheduled-changes/{other_change.pk}"),
        ("delete", f"{own}/scheduled-changes/{other_change.pk}"),
        ("post", f"{own}/users/{other_membership.pk}/activate"),
        ("post", f"{own}/users/{other_membership.pk}/deactivate"),
    ]
    for method, path in requests:
        response = getattr(admin_api, method)(path, content_type="application/json")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["status"] == 404
    with scopes_disabled():
        assert ScheduledChange.objects.get(pk=other_change.pk).status == ChangeStatus.SCHEDULED


def test_a_seller_without_an_account_in_the_currency_is_refused(operator_api, seller):
    SellerBankAccount.objects.filter(seller=seller, currency="EUR").delete()
    response = post(operator_api, "/api/v1/tenants", provision_body())
    assert response.status_code == 400
    assert "no bank account in EUR" in response.json()["error"]["fields"]["currency"][0]


# Refusals in the caller's language, with their own code and parameters.


def test_a_refused_quote_answers_in_swedish_with_its_reason(admin_api, tenant, subscription):
    response = post(admin_api, f"{base(tenant)}/quotes", {"seats": 5}, Accept_Language="sv")
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "status": 422,
            "code": "quote_refused",
            "message": "Inget att ändra",
            "reason": "nothing_to_change",
            "params": {},
        }
    }
    with scopes_disabled():
        assert not Quote.objects.exists()


def test_too_few_seats_answers_in_swedish_with_its_numbers(admin_api, tenant, subscription):
    with scopes_disabled():
        MembershipFactory.create_batch(3, tenant=tenant)  # 4 active users with the admin
    response = post(admin_api, f"{base(tenant)}/quotes", {"seats": 2}, Accept_Language="sv")
    assert response.status_code == 422
    message = "Inaktivera 2 användare innan du minskar användarlicenserna till 2"
    assert response.json()["error"] == {
        "status": 422,
        "code": "too_few_seats",
        "message": message,
        "reason": "too_few_seats",
        "params": {"count": 2, "seats": 2},
        "fields": {"seats": [message], "users_to_deactivate": 2},
    }


def test_a_licence_refusal_answers_in_norwegian_with_the_seats(admin_api, tenant, subscription):
    with scopes_disabled():
        subscription.seats = 2
        subscription.save()
        MembershipFactory(tenant=tenant)
        waiting = MembershipFactory(tenant=tenant, is_active=False)
    response = post(admin_api, f"{base(tenant)}/users/{waiting.pk}/activate", Accept_Language="nb")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "status": 409,
        "code": "no_free_licence",
        "message": "Alle 2 lisensene er i bruk: kjøp flere brukerlisenser eller deaktiver en "
        "bruker først",
        "reason": "no_free_licence",
        "params": {"count": 2},
    }
    english = post(admin_api, f"{base(tenant)}/users/{waiting.pk}/activate")
    assert english.json()["error"]["message"].startswith("All 2 licences are in use")
