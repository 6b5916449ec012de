"""Billing details: the page form, the API (GET/PUT) and the domain function behind both."""

import pytest
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Tenant
from accounts.services import api_token_create
from accounts.tenancy import tenant_scope
from billing.details import billing_details_get, billing_details_update
from billing.models import BillingDetails
from severa import clock
from tests.factories import BillingDetailsFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

FINNISH = {
    "street_address": "Mannerheimintie 12 B",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "FI",
    "business_id": "1572860-0",
    "vat_number": "FI15728600",
    "einvoice_address": "003715728600",
    "einvoice_operator": "003721291126",
    "peppol_id": "",
}

# Per country: a tenant's valid identifiers as typed, as stored, and an invalid VAT number
# with the reason the refusal must give.
COUNTRIES = {
    "FI": {
        "typed": {"business_id": "15728600", "vat_number": "FI 1572 8600"},
        "stored": {"business_id": "1572860-0", "vat_number": "FI15728600"},
        "bad_vat": ("FI12345678", "Invalid checksum"),
        "address": ("00100", "Helsinki"),
    },
    "SE": {
        "typed": {"business_id": "556036-0793", "vat_number": "se 556036-0793 01"},
        "stored": {"business_id": "5560360793", "vat_number": "SE556036079301"},
        "bad_vat": ("SE55603607930", "Invalid length"),
        "address": ("111 51", "Stockholm"),
    },
    "NO": {
        "typed": {"business_id": "974 760 673", "vat_number": "974760673 MVA"},
        "stored": {"business_id": "974760673", "vat_number": "NO974760673MVA"},
        "bad_vat": ("NO974760674MVA", "Invalid checksum"),
        "address": ("5003", "Bergen"),
    },
    "DK": {
        "typed": {"business_id": "13585628", "vat_number": "DK 13585628"},
        "stored": {"business_id": "13585628", "vat_number": "DK13585628"},
        "bad_vat": ("DK13585629", "Invalid checksum"),
        "address": ("2100", "København Ø"),
    },
}


def _data(country: str, **changes) -> dict:
    postal_code, city = COUNTRIES[country]["address"]
    data = {
        "street_address": "Street 1",
        "postal_code": postal_code,
        "city": city,
        "country": country,
        **COUNTRIES[country]["typed"],
    }
    data.update(changes)
    return data


@pytest.fixture
def billing_user(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="billing").user


@pytest.fixture
def api(client, admin_user):
    _token, key = api_token_create(user=admin_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def _nordic_tenant(country: str) -> Tenant:
    return TenantFactory(country=country, business_id="", vat_number="")


def _admin_api(client, tenant):
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
    _token, key = api_token_create(user=admin)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def _put(client, tenant, body):
    return client.put(
        f"/api/v1/tenants/{tenant.pk}/billing-details", body, content_type="application/json"
    )


def _stored(tenant) -> tuple[dict, dict | None]:
    tenant.refresh_from_db()
    with tenant_scope(tenant):
        details = BillingDetails.objects.filter(tenant=tenant).values().first()
    return {"business_id": tenant.business_id, "vat_number": tenant.vat_number}, details


# The page ---------------------------------------------------------------------------------


def test_the_page_saves_valid_details_and_the_billing_page_shows_them(
    verified_client, admin_user, tenant
):
    client = verified_client(admin_user)
    with clock.frozen(clock.now()):
        response = client.post(f"/t/{tenant.pk}/billing/details/", FINNISH)
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.pk}/billing/details/"
    identifiers, details = _stored(tenant)
    assert identifiers == {"business_id": "1572860-0", "vat_number": "FI15728600"}
    assert details["street_address"] == "Mannerheimintie 12 B"
    assert details["einvoice_address"] == "003715728600"
    assert details["einvoice_operator"] == "003721291126"
    page = client.get(f"/t/{tenant.pk}/billing/").content.decode()
    assert "Mannerheimintie 12 B, 00100 Helsinki, FI" in page
    assert f'href="/t/{tenant.pk}/billing/details/"' in page
    assert f'href="/t/{tenant.pk}/billing/contacts/"' in page


@pytest.mark.parametrize("country", ["FI", "SE", "NO", "DK"])
def test_the_page_refuses_an_invalid_vat_number_with_the_reason_and_saves_nothing(
    verified_client, country
):
    tenant = _nordic_tenant(country)
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
    client = verified_client(admin)
    bad_vat, reason = COUNTRIES[country]["bad_vat"]
    response = client.post(f"/t/{tenant.pk}/billing/details/", _data(country, vat_number=bad_vat))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["vat_number"]
    assert errors["vat_number"][0].startswith(f"{reason}: ")
    assert reason in response.content.decode()
    assert _stored(tenant) == ({"business_id": "", "vat_number": ""}, None)


@pytest.mark.parametrize("country", ["FI", "SE", "NO", "DK"])
def test_the_page_stores_valid_numbers_of_each_country_compact(verified_client, country):
    tenant = _nordic_tenant(country)
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
    client = verified_client(admin)
    response = client.post(f"/t/{tenant.pk}/billing/details/", _data(country))
    assert response.status_code == 302
    identifiers, details = _stored(tenant)
    assert identifiers == COUNTRIES[country]["stored"]
    assert details["postal_code"] == COUNTRIES[country]["address"][0]


def test_the_page_shows_every_wrong_field_at_once(verified_client, admin_user, tenant):
    client = verified_client(admin_user)
    body = {
        **FINNISH,
        "city": "",
        "business_id": "1572860-1",
        "vat_number": "FI12345678",
        "einvoice_address": "003712345678",
        "einvoice_operator": "003799999999",
        "peppol_id": "9908:1",
    }
    response = client.post(f"/t/{tenant.pk}/billing/details/", body)
    errors = response.context["form"].errors
    assert sorted(errors) == sorted(
        ["city", "business_id", "vat_number", "einvoice_address", "einvoice_operator", "peppol_id"]
    )
    assert errors["city"] == ["Fill in this field."]
    assert _stored(tenant)[1] is None


def test_the_eInvoice_fields_are_shown_to_finnish_companies_only(verified_client):
    finnish, swedish = _nordic_tenant("FI"), _nordic_tenant("SE")
    for tenant, shown in ((finnish, True), (swedish, False)):
        with scopes_disabled():
            admin = MembershipFactory(tenant=tenant, role="admin").user
        page = verified_client(admin).get(f"/t/{tenant.pk}/billing/details/").content.decode()
        assert ('name="einvoice_address"' in page) is shown
        assert ('id="einvoice-operators"' in page) is shown
        assert 'name="peppol_id"' in page


def test_the_billing_role_may_edit_and_a_member_may_not(
    verified_client, billing_user, member_user, tenant
):
    response = verified_client(billing_user).post(f"/t/{tenant.pk}/billing/details/", FINNISH)
    assert response.status_code == 302
    client = verified_client(member_user)
    assert client.get(f"/t/{tenant.pk}/billing/details/").status_code == 403
    assert client.post(f"/t/{tenant.pk}/billing/details/", FINNISH).status_code == 403


def test_another_tenants_admin_gets_404(verified_client, other_admin, tenant):
    client = verified_client(other_admin)
    assert client.get(f"/t/{tenant.pk}/billing/details/").status_code == 404
    assert client.post(f"/t/{tenant.pk}/billing/details/", FINNISH).status_code == 404
    assert _stored(tenant)[1] is None


# The API ----------------------------------------------------------------------------------


def test_get_before_anything_is_saved(api, tenant):
    response = api.get(f"/api/v1/tenants/{tenant.pk}/billing-details")
    assert response.status_code == 200
    assert response.json() == {
        "street_address": "",
        "postal_code": "",
        "city": "",
        "country": "FI",
        "business_id": "1572860-0",
        "vat_number": "FI15728600",
        "einvoice_address": "",
        "einvoice_operator": "",
        "peppol_id": "",
        "bank_account": "",
        "updated_at": None,
    }


def test_put_saves_and_answers_the_stored_form(api, tenant):
    at = clock.now()
    with clock.frozen(at):
        response = _put(api, tenant, {**FINNISH, "vat_number": "fi 1572 8600"})
    assert response.status_code == 200
    body = response.json()
    assert body["vat_number"] == "FI15728600"
    assert body["updated_at"] is not None
    assert api.get(f"/api/v1/tenants/{tenant.pk}/billing-details").json() == body
    with tenant_scope(tenant):
        event = AuditEvent.objects.get(action="billing_details.updated")
    assert event.details["changes"]["street_address"] == ["", "Mannerheimintie 12 B"]
    assert "vat_number" not in event.details["changes"]


@pytest.mark.parametrize("country", ["FI", "SE", "NO", "DK"])
def test_put_refuses_an_invalid_vat_number_with_the_reason(client, country):
    tenant = _nordic_tenant(country)
    api = _admin_api(client, tenant)
    bad_vat, reason = COUNTRIES[country]["bad_vat"]
    response = _put(api, tenant, _data(country, vat_number=bad_vat))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["vat_number"]
    assert error["fields"]["vat_number"][0].startswith(f"{reason}: ")
    assert _stored(tenant) == ({"business_id": "", "vat_number": ""}, None)


@pytest.mark.parametrize("country", ["FI", "SE", "NO", "DK"])
def test_put_stores_valid_numbers_of_each_country_compact(client, country):
    tenant = _nordic_tenant(country)
    response = _put(_admin_api(client, tenant), tenant, _data(country))
    assert response.status_code == 200
    stored = COUNTRIES[country]["stored"]
    assert {key: response.json()[key] for key in stored} == stored
    assert _stored(tenant)[0] == stored


def test_put_answers_every_wrong_field_and_changes_nothing(api, tenant):
    BillingDetailsFactory(tenant=tenant, street_address="Old street 1")
    before = _stored(tenant)
    body = {
        **FINNISH,
        "postal_code": "0010",
        "business_id": "1572860-1",
        "einvoice_address": "003712345678",
        "einvoice_operator": "003799999999",
        "peppol_id": "0216",
    }
    response = _put(api, tenant, body)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert sorted(fields) == [
        "business_id",
        "einvoice_address",
        "einvoice_operator",
        "peppol_id",
        "postal_code",
    ]
    assert fields["postal_code"] == [
        "Invalid length: 0010 has 4 digits instead of 5. A Finnish postal code is 5 digits, "
        "e.g. 00100."
    ]
    assert fields["einvoice_operator"][0].startswith("Unknown eInvoice operator: 003799999999")
    assert fields["einvoice_address"][0].startswith("Invalid checksum: the business id in")
    assert _stored(tenant) == before


def test_put_refuses_an_unknown_country_code(api, tenant):
    response = _put(api, tenant, {**FINNISH, "country": "XX"})
    assert response.json()["error"]["fields"] == {
        "country": ["XX is not a country code: use the two-letter ISO 3166 code, e.g. FI."]
    }


def test_put_needs_the_address_and_business_id(api, tenant):
    response = _put(api, tenant, {})
    assert response.status_code == 400
    assert sorted(response.json()["error"]["fields"]) == [
        "business_id",
        "city",
        "country",
        "postal_code",
        "street_address",
    ]
    body = {name: "" for name in FINNISH}
    response = _put(api, tenant, body)
    assert response.json()["error"]["fields"]["city"] == ["Fill in this field."]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"vat_number": "FI12345671"},
            "vat_number",
            "This VAT number does not belong to business id 1572860-0, whose VAT number is "
            "FI15728600.",
        ),
        (
            {"einvoice_operator": ""},
            "einvoice_operator",
            "Give the operator that delivers to this eInvoice address.",
        ),
        (
            {"einvoice_address": ""},
            "einvoice_address",
            "Give the eInvoice address this operator delivers to.",
        ),
        (
            {"peppol_id": "0216:003715728600"},
            "peppol_id",
            "Give either an eInvoice address or a Peppol id, not both: invoices are delivered "
            "one way.",
        ),
    ],
)
def test_put_checks_fields_against_each_other(api, tenant, changes, field, message):
    response = _put(api, tenant, {**FINNISH, **changes})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}


def test_an_einvoice_address_is_for_finnish_companies_only(client):
    tenant = _nordic_tenant("SE")
    body = _data("SE", einvoice_address="003715728600", einvoice_operator="NDEAFIHH")
    response = _put(_admin_api(client, tenant), tenant, body)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert sorted(fields) == ["einvoice_address", "einvoice_operator"]
    assert fields["einvoice_address"][0].startswith("eInvoice addresses are for companies")


def test_a_swedish_company_with_a_peppol_id(client):
    tenant = _nordic_tenant("SE")
    response = _put(_admin_api(client, tenant), tenant, _data("SE", peppol_id="0007:556036-0793"))
    assert response.status_code == 200
    assert response.json()["peppol_id"] == "0007:5560360793"


def test_put_twice_updates_the_one_row_and_audits_only_changes(api, tenant):
    assert _put(api, tenant, FINNISH).status_code == 200
    assert _put(api, tenant, FINNISH).status_code == 200
    assert (
        _put(api, tenant, {**FINNISH, "city": "Espoo", "postal_code": "02150"}).status_code == 200
    )
    with tenant_scope(tenant):
        assert BillingDetails.objects.count() == 1
        events = list(AuditEvent.objects.filter(action="billing_details.updated"))
    assert len(events) == 2
    assert events[0].details["changes"] == {
        "postal_code": ["00100", "02150"],
        "city": ["Helsinki", "Espoo"],
    }


def test_the_api_refuses_members_and_hides_other_tenants(client, member_user, tenant, other_tenant):
    _token, key = api_token_create(user=member_user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    own = client.get(f"/api/v1/tenants/{tenant.pk}/billing-details", **auth)
    assert own.status_code == 403
    foreign = client.get(f"/api/v1/tenants/{other_tenant.pk}/billing-details", **auth)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"


def test_the_selector_reads_the_saved_row(tenant, admin_user):
    with tenant_scope(tenant):
        billing_details_update(tenant=tenant, data=FINNISH, actor=admin_user)
    # Outside any scope too: delivery code calls it from tasks.
    details = billing_details_get(tenant=tenant)
    assert details.pk is not None
    assert details.einvoice_operator == "003721291126"
    assert tenant.billing_details == details


def test_a_value_that_grows_when_compacted_is_still_held_to_the_column_length(client):
    tenant = TenantFactory(country="CH", business_id="", vat_number="")
    body = {
        "street_address": "Bahnhofstrasse 1",
        "postal_code": "8001",
        "city": "Zürich",
        "country": "CH",
        "business_id": "CHE-123.456.788",
        "vat_number": "ß" * 30,
    }
    response = _put(_admin_api(client, tenant), tenant, body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"vat_number": ["At most 40 characters, please."]}
    assert _stored(tenant) == ({"business_id": "", "vat_number": ""}, None)
