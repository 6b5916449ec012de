"""The eEkonomi client against the strict fake: error shape, unknown fields, paging and OData
filters, the per-endpoint limit and its 429, lost answers, the module-missing 403 and single-use
refresh tokens."""

import pytest

from integrations.eaccounting.client import (
    EAccountingClient,
    ModuleMissing,
    endpoint_of,
    odata_string,
)
from integrations.eaccounting.fake import FakeEAccountingServer
from integrations.eaccounting.oauth import exchange_code, refresh_tokens
from integrations.errors import (
    AmbiguousWrite,
    AuthorizationError,
    PermanentError,
    PermissionMissing,
)

CALLBACK = "http://127.0.0.1/callback"


def customer(fake, number: str, **fields) -> dict:
    terms = next(iter(fake.company().records["termsofpayment"]))
    return {
        "CustomerNumber": number,
        "Name": f"Kund {number}",
        "IsPrivatePerson": False,
        "IsActive": True,
        "InvoicePostalCode": "11122",
        "InvoiceCity": "Stockholm",
        "TermsOfPaymentId": terms,
        **fields,
    }


def test_an_unknown_field_is_refused_with_the_apis_error_shape(eekonomi, fake):
    with pytest.raises(PermanentError) as refused:
        eekonomi.create("customers", customer(fake, "1", OrderNumber="PO-1"))

    assert "The property OrderNumber does not exist" in str(refused.value)
    assert refused.value.code == 4000
    assert fake.company().records["customers"] == {}
    answer = fake.requests(method="POST")[-1]
    assert answer.status == 400


def test_required_fields_lengths_and_references_are_checked(eekonomi, fake):
    for bad, message in (
        ({"InvoiceCity": None}, "InvoiceCity is required"),
        ({"Name": "x" * 51}, "At most 50 characters"),
        ({"TermsOfPaymentId": "00000000-0000-4000-8000-000000000000"}, "does not exist"),
    ):
        with pytest.raises(PermanentError, match=message):
            eekonomi.create("customers", customer(fake, "1", **bad))
    eekonomi.create("customers", customer(fake, "1"))
    with pytest.raises(PermanentError, match="already in use"):
        eekonomi.create("customers", customer(fake, "1"))


def test_pages_and_odata_filters(eekonomi, fake):
    for number in ("1", "2", "3"):
        eekonomi.create("customers", customer(fake, number, Name=f"O'Brien {number}"))
    fake.log.clear()

    listed = list(eekonomi.list("customers", page_size=2))

    assert [item["CustomerNumber"] for item in listed] == ["1", "2", "3"]
    assert [entry.query.count("%24page=") for entry in fake.requests()] == [1, 1]
    assert eekonomi.find_by("customers", "Name", "O'Brien 2")["CustomerNumber"] == "2"
    assert odata_string("O'Brien") == "'O''Brien'"
    assert eekonomi.find_by("customers", "CustomerNumber", "9") is None
    since = list(eekonomi.changed("customers", "ChangedUtc", None))
    assert len(since) == 3


def test_a_429_is_waited_out_per_endpoint(eaccounting_settings):
    with FakeEAccountingServer(seed=1, rate_limit=2, rate_window=1.0) as server:
        code = server.fake.issue_code(redirect_uri=CALLBACK)
        eaccounting_settings.EACCOUNTING_TOKEN_URL = server.token_url
        eaccounting_settings.EACCOUNTING_API_URL = server.api_url
        tokens = exchange_code(code=code, redirect_uri=CALLBACK)
        client = EAccountingClient(tokens.access_token, limiter_for=None)

        for _round in range(3):
            assert list(client.list("units"))
        assert list(client.list("vatcodes"))  # another endpoint, another count

        statuses = [entry.status for entry in server.fake.requests()]
        assert 429 in statuses
        assert statuses[-1] == 200
        answer = server.fake._too_many(0.4).body
        assert answer["ErrorCode"] == 4010
        assert "Try again in 1 seconds" in answer["DeveloperErrorMessage"]


def test_a_write_without_an_answer_is_ambiguous_and_a_read_is_retried(eekonomi, fake):
    fake.inject("lost_response", method="POST", path_prefix="/v2/customers")
    with pytest.raises(AmbiguousWrite):
        eekonomi.create("customers", customer(fake, "1"))
    assert len(fake.company().records["customers"]) == 1  # it landed all the same

    fake.inject("error_500", method="GET", path_prefix="/v2/customers")
    assert [item["CustomerNumber"] for item in eekonomi.list("customers")] == ["1"]


def test_the_module_missing_403_and_one_resource_refused(eekonomi, fake):
    fake.unlicense("articles")
    with pytest.raises(PermissionMissing):
        list(eekonomi.list("articles"))
    assert list(eekonomi.list("units"))

    fake.remove_api_module()
    with pytest.raises(ModuleMissing, match="api_standard"):
        list(eekonomi.list("units"))
    assert [entry.status for entry in fake.requests()][-1] == 403


def test_refresh_tokens_are_single_use(eaccounting_settings, fake):
    tokens = exchange_code(code=fake.issue_code(redirect_uri=CALLBACK), redirect_uri=CALLBACK)

    renewed = refresh_tokens(refresh_token=tokens.refresh_token)

    assert renewed.refresh_token != tokens.refresh_token
    with pytest.raises(AuthorizationError, match="invalid_grant"):
        refresh_tokens(refresh_token=tokens.refresh_token)
    assert refresh_tokens(refresh_token=renewed.refresh_token).access_token


def test_requests_count_per_endpoint():
    assert endpoint_of("customers/9f1c") == "customers"
    assert endpoint_of("/customerinvoicedrafts/1/convert") == "customerinvoicedrafts"
