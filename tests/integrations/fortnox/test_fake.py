"""The fake Fortnox answers like Fortnox: envelopes, paging, errors, OAuth, rate limit, faults."""

import base64
import datetime
import json
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.fortnox.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeRequest,
    FortnoxFake,
)

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
BASIC = (
    "Basic " + base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
)


class Api:
    def __init__(self, server, token):
        self.server = server
        self.token = token

    def call(self, method, path, body=None, **params):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(
            method,
            self.server.api_url + path,
            params=params,
            data=None if body is None else json.dumps(body),
            headers=headers,
            timeout=5,
        )


@pytest.fixture
def api(fortnox_server, access_token):
    return Api(fortnox_server, access_token)


def oauth(server, path, form, headers=None):
    return requests.post(
        server.url + path,
        data=form,
        headers={"Authorization": BASIC, **(headers or {})},
        timeout=5,
    )


def test_create_and_get_use_envelopes_and_url(api, fortnox_server):
    created = api.call("POST", "customers", {"Customer": {"CustomerNumber": "10", "Name": "Acme"}})

    assert created.status_code == 201
    customer = created.json()["Customer"]
    assert customer["CustomerNumber"] == "10"
    assert customer["Name"] == "Acme"
    assert customer["@url"] == f"{fortnox_server.url}/3/customers/10"
    fetched = api.call("GET", "customers/10").json()
    assert fetched == {"Customer": customer}


def test_customer_numbers_are_assigned_and_never_reused(api):
    first = api.call("POST", "customers", {"Customer": {"Name": "A"}}).json()["Customer"]
    assert first["CustomerNumber"] == "1"
    assert api.call("DELETE", "customers/1").status_code == 204

    again = api.call("POST", "customers", {"Customer": {"CustomerNumber": "1", "Name": "B"}})

    assert again.status_code == 400
    assert again.json() == {
        "ErrorInformation": {
            "error": 1,
            "message": "CustomerNumber 1 används redan.",
            "code": 2000637,
        }
    }
    assert (
        api.call("POST", "customers", {"Customer": {"Name": "C"}}).json()["Customer"][
            "CustomerNumber"
        ]
        == "2"
    )


def test_list_pages_with_meta_information_and_list_items(api):
    for number in range(1, 8):
        api.call("POST", "customers", {"Customer": {"Name": f"C{number}", "Email": "x@y.se"}})

    page = api.call("GET", "customers", page=3, limit=3).json()

    assert page["MetaInformation"] == {
        "@TotalResources": 7,
        "@TotalPages": 3,
        "@CurrentPage": 3,
    }
    assert [item["CustomerNumber"] for item in page["Customers"]] == ["7"]
    assert set(page["Customers"][0]) == {
        "@url", "Address1", "Address2", "City", "CustomerNumber", "Email", "Name",
        "OrganisationNumber", "Phone", "ZipCode",
    }  # fmt: skip
    assert api.call("GET", "customers", limit=501).json()["ErrorInformation"]["code"] == 2000588


def test_lastmodified_filters_by_swedish_local_time(api, fake):
    api.call("POST", "customers", {"Customer": {"CustomerNumber": "1", "Name": "Old"}})
    fake.advance(120)
    stockholm_now = datetime.datetime.fromtimestamp(fake.now(), tz=STOCKHOLM)
    since = stockholm_now.strftime("%Y-%m-%d %H:%M")  # the docs' format, to the minute
    api.call("POST", "customers", {"Customer": {"CustomerNumber": "2", "Name": "New"}})

    def changed():
        answer = api.call("GET", "customers", lastmodified=since).json()
        return [item["Name"] for item in answer["Customers"]]

    assert changed() == ["New"]
    api.call("PUT", "customers/1", {"Customer": {"Name": "Old, renamed"}})
    assert changed() == ["Old, renamed", "New"]
    utc_since = stockholm_now.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    # UTC is one hour behind Stockholm in December: read as Stockholm time, it is earlier.
    answer = api.call("GET", "customers", lastmodified=utc_since).json()
    assert answer["MetaInformation"]["@TotalResources"] == 2


def test_validation_errors(api):
    unknown_field = api.call("POST", "customers", {"Customer": {"Name": "A", "Nmae": "typo"}})
    no_name = api.call("POST", "customers", {"Customer": {"Email": "a@b.se"}})
    no_envelope = api.call("POST", "customers", {"Name": "A"})
    missing_unit = api.call(
        "POST",
        "articles",
        {"Article": {"ArticleNumber": "100", "Description": "Hour", "Unit": "h"}},
    )
    missing_customer = api.call("GET", "customers/404")

    assert (unknown_field.status_code, unknown_field.json()["ErrorInformation"]["code"]) == (
        400,
        2001399,
    )
    assert no_name.status_code == 400
    assert no_envelope.json()["ErrorInformation"]["code"] == 2001392
    assert missing_unit.status_code == 400
    assert "Enheten h finns inte" in missing_unit.json()["ErrorInformation"]["message"]
    assert missing_customer.status_code == 404
    assert missing_customer.json()["ErrorInformation"] == {
        "error": 1,
        "message": "Kan inte hitta kunden.",
        "code": 2000433,
    }
    assert api.call("GET", "articles").json()["Articles"] == []


def test_invoice_totals_booking_and_payment(api):
    api.call("POST", "customers", {"Customer": {"CustomerNumber": "5", "Name": "Acme"}})
    api.call("POST", "units", {"Unit": {"Code": "h", "Description": "hour"}})
    api.call(
        "POST", "articles", {"Article": {"ArticleNumber": "1", "Description": "Work", "Unit": "h"}}
    )
    invoice = api.call(
        "POST",
        "invoices",
        {
            "Invoice": {
                "CustomerNumber": "5",
                "ExternalInvoiceReference1": "severa-42",
                "InvoiceRows": [
                    {"ArticleNumber": "1", "DeliveredQuantity": 3, "Price": 333.33, "VAT": 25},
                ],
            }
        },
    ).json()["Invoice"]

    assert (invoice["DocumentNumber"], invoice["Net"], invoice["TotalVAT"]) == ("1", 999.99, 250)
    assert (invoice["Total"], invoice["RoundOff"], invoice["Balance"]) == (1250, 0.01, 1250)
    assert (invoice["Booked"], invoice["Sent"], invoice["CustomerName"]) == (False, False, "Acme")
    early = api.call(
        "POST", "invoicepayments", {"InvoicePayment": {"InvoiceNumber": "1", "Amount": 1250}}
    )
    assert early.status_code == 400  # not booked yet
    assert api.call("PUT", "invoices/1/bookkeep").json()["Invoice"]["Booked"] is True
    assert api.call("PUT", "invoices/1/externalprint").json()["Invoice"]["Sent"] is True
    assert api.call("PUT", "invoices/1", {"Invoice": {"Remarks": "x"}}).status_code == 400

    api.call(
        "POST",
        "invoicepayments",
        {"InvoicePayment": {"InvoiceNumber": "1", "Amount": 1250, "PaymentDate": "2026-12-01"}},
    )

    paid = api.call("GET", "invoices", filter="fullypaid").json()["Invoices"]
    assert [(i["DocumentNumber"], i["Balance"], i["FinalPayDate"]) for i in paid] == [
        ("1", 0, "2026-12-01")
    ]
    assert (
        api.call("GET", "invoices", externalinvoicereference1="severa-4").json()["MetaInformation"][
            "@TotalResources"
        ]
        == 1
    )  # ILIKE %value%, as Fortnox searches


def test_companies_are_separate(fake, fortnox_server):
    ours = Api(fortnox_server, fake.issue_token(tenant_id="1")["access_token"])
    theirs = Api(fortnox_server, fake.issue_token(tenant_id="2")["access_token"])
    ours.call("POST", "customers", {"Customer": {"CustomerNumber": "1", "Name": "Ours"}})

    assert theirs.call("GET", "customers/1").status_code == 404
    assert theirs.call("GET", "customers").json()["Customers"] == []


def test_api_needs_a_valid_unexpired_token_and_the_scope(fake, fortnox_server):
    assert Api(fortnox_server, "wrong").call("GET", "customers").status_code == 401
    narrow = Api(fortnox_server, fake.issue_token(scope="customer")["access_token"])
    assert narrow.call("GET", "customers").status_code == 200
    assert narrow.call("GET", "invoices").status_code == 403

    fake.advance(3600)

    expired = narrow.call("GET", "customers")
    assert expired.status_code == 401
    assert expired.json()["ErrorInformation"]["code"] == 2000311


def test_authorization_code_flow_and_refresh_rotation(fortnox_server):
    consent = requests.get(
        fortnox_server.auth_url,
        params={
            "client_id": DEFAULT_CLIENT_ID,
            "redirect_uri": "https://severa.test/callback",
            "scope": "customer invoice",
            "state": "s1",
            "response_type": "code",
            "access_type": "offline",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert consent.status_code == 302
    location = urlsplit(consent.headers["Location"])
    query = parse_qs(location.query)
    assert (location.netloc, query["state"]) == ("severa.test", ["s1"])
    code = query["code"][0]

    wrong_redirect = oauth(
        fortnox_server,
        "/oauth-v1/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://other"},
    )
    assert wrong_redirect.json()["error"] == "invalid_grant"
    code = fortnox_server.fake.issue_code(redirect_uri="https://severa.test/callback")
    tokens = oauth(
        fortnox_server,
        "/oauth-v1/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://severa.test/callback",
        },
    ).json()
    assert (tokens["expires_in"], tokens["token_type"]) == (3600, "bearer")
    reused = oauth(
        fortnox_server,
        "/oauth-v1/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://severa.test/callback",
        },
    )
    assert reused.status_code == 400

    rotated = oauth(
        fortnox_server,
        "/oauth-v1/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()
    again = oauth(
        fortnox_server,
        "/oauth-v1/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )

    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert Api(fortnox_server, rotated["access_token"]).call("GET", "customers").ok


def test_token_endpoint_needs_client_authentication(fortnox_server):
    refused = requests.post(
        fortnox_server.token_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"fake-client-id:nope").decode()},
        timeout=5,
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_client_credentials_need_a_service_account_and_revoke(fake, fortnox_server):
    form = {"grant_type": "client_credentials"}
    assert oauth(fortnox_server, "/oauth-v1/token", form, {"TenantId": "77"}).status_code == 400
    fake.authorize_service_account(tenant_id="77", scope="customer")

    tokens = oauth(fortnox_server, "/oauth-v1/token", form, {"TenantId": "77"}).json()

    assert "refresh_token" not in tokens
    assert Api(fortnox_server, tokens["access_token"]).call("GET", "customers").ok
    refresh = fake.issue_token()["refresh_token"]
    revoked = oauth(
        fortnox_server, "/oauth-v1/revoke", {"token_type_hint": "refresh_token", "token": refresh}
    )
    assert revoked.json() == {"revoked": True}
    after = oauth(
        fortnox_server, "/oauth-v1/token", {"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert after.status_code == 400


def test_rate_limit_is_25_per_sliding_5_seconds_per_client_and_company(api, fake, fortnox_server):
    fake.faults.retry_after = True
    answers = [api.call("GET", "units").status_code for _ in range(27)]
    refreshed = Api(fortnox_server, fake.issue_token()["access_token"])
    other_company = Api(fortnox_server, fake.issue_token(tenant_id="2")["access_token"])

    assert answers == [200] * 25 + [429, 429]
    limited = refreshed.call("GET", "units")  # a new token of the same client and company
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 5
    assert other_company.call("GET", "units").status_code == 200
    assert fake.max_in_window(statuses={200}) == 26  # 25 + the other company's


def test_no_retry_after_header_unless_configured():
    fake = FortnoxFake(rate_limit=1)
    token = fake.issue_token()["access_token"]

    request = FakeRequest("GET", "/3/units", {"authorization": f"Bearer {token}"})
    assert fake.handle(request).status == 200
    refused = fake.handle(request)
    assert (refused.status, refused.headers) == (429, {})


def test_lost_response_applies_the_write_then_drops_the_connection(api, fake):
    fake.inject("lost_response", method="POST", path_prefix="/3/customers")

    with pytest.raises(requests.ConnectionError):
        api.call("POST", "customers", {"Customer": {"CustomerNumber": "9", "Name": "Lost"}})

    assert api.call("GET", "customers/9").json()["Customer"]["Name"] == "Lost"
    assert [(entry.method, entry.fault) for entry in fake.requests()] == [
        ("POST", "lost_response"),
        ("GET", None),
    ]


def test_timeout_and_error_faults(api, fake):
    fake.faults.timeout_seconds = 0.5
    fake.inject("timeout")
    fake.inject("error_500")

    with pytest.raises(requests.Timeout):
        requests.get(
            api.server.api_url + "units",
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=0.2,
        )
    assert api.call("GET", "units").status_code == 500
    assert api.call("GET", "units").status_code == 200


def test_random_faults_are_deterministic_with_a_seed():
    def statuses(seed):
        fake = FortnoxFake(seed=seed, rate_limit=1000)
        fake.faults.error_rate = 0.3
        token = fake.issue_token()["access_token"]

        request = FakeRequest("GET", "/3/units", {"authorization": f"Bearer {token}"})
        return [fake.handle(request).status for _ in range(40)]

    first = statuses(3)
    assert first == statuses(3)
    assert 5 <= first.count(500) <= 20
    assert first != statuses(4)


def test_control_endpoints(fortnox_server, api):
    base = fortnox_server.url + "/_fake/"
    requests.post(base + "faults", json={"error_rate": 1.0}, timeout=5)
    assert api.call("GET", "units").status_code == 500
    requests.post(base + "reset", timeout=5)
    token = requests.post(base + "tokens", json={}, timeout=5).json()["access_token"]

    assert Api(fortnox_server, token).call("GET", "units").status_code == 200
    log = requests.get(base + "requests", timeout=5).json()["requests"]
    assert [(entry["path"], entry["status"]) for entry in log] == [("/3/units", 200)]
