"""The Fortnox client against the fake: paging, error mapping, retries, ambiguous writes,
429 with Retry-After, and the OAuth calls."""

import datetime
import socket
import time
from decimal import Decimal

import pytest

from integrations.fortnox import client as fortnox
from integrations.fortnox.client import (
    CUSTOMERS,
    AmbiguousWrite,
    AuthorizationError,
    FortnoxClient,
    FortnoxError,
    NotFound,
    RateLimited,
    TemporaryError,
    Unauthorized,
)
from integrations.ratelimit import LocalRateLimiter
from severa import clock


def api_calls(fake, method=None):
    return [(entry.method, entry.path) for entry in fake.requests(method=method)]


def test_list_follows_the_pages(client, fake):
    for number in range(1, 8):
        client.create_customer({"CustomerNumber": str(number), "Name": f"Customer {number}"})

    names = [item["Name"] for item in client.list_customers(page_size=3)]

    assert names == [f"Customer {number}" for number in range(1, 8)]
    pages = [entry.query for entry in fake.requests(method="GET")]
    assert pages == ["page=1&limit=3", "page=2&limit=3", "page=3&limit=3"]


def test_list_of_nothing_is_one_request(client, fake):
    assert list(client.list_invoices(filter="unpaid")) == []
    assert len(fake.requests()) == 1


def test_list_sends_lastmodified_in_swedish_local_time(client, fake):
    client.create_customer({"CustomerNumber": "1", "Name": "A"})
    since = datetime.datetime(2026, 12, 1, 10, 30, tzinfo=datetime.UTC)

    list(client.list_customers(lastmodified=since))

    assert fake.requests(method="GET")[0].query == (
        "lastmodified=2026-12-01+11%3A30%3A00&page=1&limit=500"
    )
    with pytest.raises(ValueError, match="aware"):
        list(client.list_customers(lastmodified=datetime.datetime(2026, 12, 1)))  # noqa: DTZ001


def test_get_create_update_round_trip_with_decimals(client):
    client.create_unit({"Code": "h", "Description": "hour"})
    client.create_article({"ArticleNumber": "100", "Description": "Work", "Unit": "h"})
    client.create_customer({"CustomerNumber": "7", "Name": "Acme AB", "Type": "COMPANY"})

    invoice = client.create_invoice(
        {
            "CustomerNumber": "7",
            "ExternalInvoiceReference1": "severa-1",
            "InvoiceDate": datetime.date(2026, 12, 1),
            "InvoiceRows": [
                {
                    "ArticleNumber": "100",
                    "DeliveredQuantity": Decimal("1.5"),
                    "Price": Decimal("1234.56"),
                    "VAT": 25,
                }
            ],
        }
    )

    assert invoice["Net"] == Decimal("1851.84")
    assert isinstance(invoice["Net"], Decimal)
    assert (invoice["Total"], invoice["InvoiceDate"]) == (2315, "2026-12-01")
    updated = client.update_customer("7", {"City": "Lund"})
    assert updated["City"] == "Lund"
    assert client.get_customer("7")["City"] == "Lund"
    assert client.mark_invoice_sent(invoice["DocumentNumber"])["Sent"] is True
    assert client.bookkeep_invoice(invoice["DocumentNumber"])["Booked"] is True


def test_find_invoices_by_reference_matches_exactly(client):
    client.create_customer({"CustomerNumber": "1", "Name": "A"})
    for reference in ("severa-1", "severa-10", "severa-11"):
        client.create_invoice({"CustomerNumber": "1", "ExternalInvoiceReference1": reference})

    found = client.find_invoices_by_reference("severa-1")

    assert [item["ExternalInvoiceReference1"] for item in found] == ["severa-1"]


def test_errors_are_mapped(client, fortnox_settings, fake):
    client.create_customer({"CustomerNumber": "1", "Name": "A"})

    with pytest.raises(FortnoxError) as duplicate:
        client.create_customer({"CustomerNumber": "1", "Name": "B"})
    with pytest.raises(NotFound) as missing:
        client.get_customer("404")

    assert (duplicate.value.status, duplicate.value.code) == (400, 2000637)
    assert duplicate.value.temporary is False
    assert (missing.value.code, missing.value.message) == (2000433, "Kan inte hitta kunden.")
    assert client.find(CUSTOMERS, "404") is None
    with pytest.raises(Unauthorized):
        FortnoxClient("expired-token").get_customer("1")


def test_error_information_in_either_casing():
    lower = b'{"ErrorInformation": {"error": 1, "message": "Fel.", "code": 2000423}}'
    upper = b'{"ErrorInformation": {"Error": 1, "Message": "Saknar.", "Code": "2003275"}}'

    assert fortnox.error_information(lower) == ("Fel.", 2000423)
    assert fortnox.error_information(upper) == ("Saknar.", 2003275)
    assert fortnox.error_information(b"<html>") == ("<html>", None)


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(fortnox_settings, fake):
    stale = fake.issue_token()["access_token"]
    fake.expire_access_tokens()
    fresh = []

    def refresher():
        fresh.append(fake.issue_token()["access_token"])
        return fresh[-1]

    client = FortnoxClient(stale, token_refresher=refresher)
    client.create_customer({"CustomerNumber": "1", "Name": "A"})

    assert client.access_token == fresh[0]
    assert [(entry.method, entry.status) for entry in fake.requests()] == [
        ("POST", 401),
        ("POST", 201),
    ]


def test_reads_are_retried_on_5xx_and_timeouts(client, fake):
    fake.faults.timeout_seconds = 1.0
    client.timeout = 0.3
    fake.inject("error_500", method="GET")
    fake.inject("timeout", method="GET")

    assert list(client.list_units()) == []
    assert [entry.fault for entry in fake.requests()] == ["error_500", "timeout", None]


def test_reads_give_up_after_the_attempts(client, fake):
    fake.inject("error_500", count=10)

    with pytest.raises(TemporaryError) as failure:
        client.get_customer("1")

    assert failure.value.status == 500
    assert len(fake.requests()) == client.read_attempts == 4


def test_a_lost_write_is_ambiguous_and_not_repeated(client, fake):
    fake.inject("lost_response", method="POST")

    with pytest.raises(AmbiguousWrite) as lost:
        client.create_customer({"CustomerNumber": "1", "Name": "A"})

    assert (lost.value.method, lost.value.path) == ("POST", "customers")
    assert lost.value.temporary is True
    assert not isinstance(lost.value, TemporaryError)
    assert api_calls(fake) == [("POST", "/3/customers")]
    # The look-up the sync engine does before creating again finds the record.
    assert client.find(CUSTOMERS, "1")["Name"] == "A"


@pytest.mark.parametrize("fault", ["lost_response_500", "timeout"])
def test_a_write_answered_by_500_or_timing_out_is_ambiguous(client, fake, fault):
    fake.faults.timeout_seconds = 1.0
    client.timeout = 0.3
    client.create_customer({"CustomerNumber": "1", "Name": "A"})
    fake.inject(fault, method="PUT")

    with pytest.raises(AmbiguousWrite):
        client.update_customer("1", {"Name": "B"})

    assert len(fake.requests(method="PUT")) == 1
    time.sleep(0.8 if fault == "timeout" else 0)
    assert client.get_customer("1")["Name"] == "B"


def test_a_write_that_never_left_is_retried_then_temporary(fortnox_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = FortnoxClient(
        "token", base_url=f"http://127.0.0.1:{port}/3/", backoff_base=0.01, read_attempts=2
    )

    with pytest.raises(TemporaryError):
        client.create_customer({"Name": "A"})


def test_429_retry_after_pauses_the_shared_limiter(fortnox_settings, fake, access_token):
    fake.faults.retry_after = True
    limiter = LocalRateLimiter(limit=25, window=5.0)
    client = FortnoxClient(access_token, rate_limiter=limiter)
    fake.inject("429", count=1)
    started = time.monotonic()

    units = list(client.list_units())

    assert units == []
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert [entry.status for entry in fake.requests()] == [429, 200]
    assert limiter.acquire() < 0.2  # the pause is over for everyone


def test_429_without_retry_after_waits_the_default(client, fake):
    fake.inject("429", count=2)
    started = time.monotonic()

    client.create_customer({"Name": "A"})  # refused before it ran: safe to send again

    assert time.monotonic() - started >= 0.2
    assert [entry.status for entry in fake.requests()] == [429, 429, 201]


def test_rate_limited_after_the_attempts(client, fake):
    client.rate_limit_attempts = 2
    fake.inject("429", count=5)

    with pytest.raises(RateLimited) as limited:
        client.get_customer("1")

    assert limited.value.retry_after == 0.1
    assert len(fake.requests()) == 3


def test_never_more_than_the_limit_with_the_limiter(fortnox_settings, fake, access_token):
    fake.rate_window = 1.0
    fake.rate_limit = 5
    limiter = LocalRateLimiter(limit=5, window=1.0, margin=0.1)
    client = FortnoxClient(access_token, rate_limiter=limiter)

    for _ in range(12):
        client.request("GET", "units")

    assert {entry.status for entry in fake.requests()} == {200}
    assert fake.max_in_window(window=1.0) == 5


def test_oauth_code_exchange_refresh_rotation_and_revoke(fortnox_settings, fake):
    url = fortnox.authorization_url(
        redirect_uri="https://severa.test/cb", scopes=["customer", "invoice"], state="xyz"
    )
    assert url.startswith(fortnox_settings.FORTNOX_AUTH_URL + "?client_id=fake-client-id&")
    assert "scope=customer%20invoice" in url
    code = fake.issue_code(redirect_uri="https://severa.test/cb", scope="customer")

    with clock.frozen(datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)):
        tokens = fortnox.exchange_code(code=code, redirect_uri="https://severa.test/cb")
    rotated = fortnox.refresh_tokens(refresh_token=tokens.refresh_token)

    assert tokens.scope == ("customer",)
    assert tokens.expires_at == datetime.datetime(2026, 12, 1, 13, 0, tzinfo=datetime.UTC)
    assert rotated.refresh_token != tokens.refresh_token
    with pytest.raises(AuthorizationError) as spent:
        fortnox.refresh_tokens(refresh_token=tokens.refresh_token)
    assert (spent.value.status, spent.value.error) == (400, "invalid_grant")
    assert FortnoxClient(rotated.access_token).find(CUSTOMERS, "1") is None
    assert fortnox.revoke_refresh_token(refresh_token=rotated.refresh_token) is True
    with pytest.raises(AuthorizationError):
        fortnox.refresh_tokens(refresh_token=rotated.refresh_token)


def test_oauth_client_credentials_and_wrong_secret(fortnox_settings, fake):
    fake.authorize_service_account(tenant_id="55", scope="customer")

    tokens = fortnox.client_credentials_token(tenant_id="55")

    assert tokens.refresh_token is None
    assert list(FortnoxClient(tokens.access_token).list_customers()) == []
    with pytest.raises(AuthorizationError) as refused:
        fortnox.client_credentials_token(tenant_id="55", client_secret="wrong")
    assert refused.value.error == "invalid_client"


def test_oauth_lost_refresh_answer_is_ambiguous(fortnox_settings):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        # The server accepts the connection and never answers.
        with pytest.raises(AmbiguousWrite):
            fortnox.refresh_tokens(
                refresh_token="r", token_url=f"http://127.0.0.1:{port}/oauth-v1/token", timeout=0.3
            )


def test_look_up_before_creating_again_leaves_no_duplicates_under_faults(client, fake):
    """The contract the sync engine relies on, under random 500s and lost write answers:
    create; on AmbiguousWrite look the invoice up by its reference; create again only if
    it is not there."""
    fake.rate_limit = 10_000
    client.create_customer({"CustomerNumber": "1", "Name": "Acme"})
    fake.faults.error_rate = 0.15
    fake.faults.lost_response_rate = 0.25
    ambiguous = 0

    def push(reference):
        nonlocal ambiguous
        for _ in range(10):
            try:
                return client.create_invoice(
                    {"CustomerNumber": "1", "ExternalInvoiceReference1": reference}
                )
            except AmbiguousWrite:
                ambiguous += 1
                found = client.find_invoices_by_reference(reference)
                if found:
                    return found[0]
        raise AssertionError(f"{reference} not created in 10 attempts")

    pushed = [push(f"severa-{number}") for number in range(1, 21)]

    invoices = fake.company().records["invoices"].values()
    references = sorted(invoice["ExternalInvoiceReference1"] for invoice in invoices)
    assert references == sorted(f"severa-{number}" for number in range(1, 21))
    assert len({invoice["DocumentNumber"] for invoice in pushed}) == 20
    assert ambiguous >= 5  # the faults did happen (seeded: the same count every run)
