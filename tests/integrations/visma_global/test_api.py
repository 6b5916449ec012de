"""The agent of a connection through the API, and the transfer log of an agent's run."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(site):
    _token, key = api_token_create(user=site.admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def base(site) -> str:
    return f"/api/v1/tenants/{site.tenant.pk}/connections/{site.connection.pk}"


def test_issue_rotate_and_revoke_the_key_then_read_the_transfer_log(api, site, kit):
    assert api.get(f"{base(site)}/agent").json()["has_key"] is False
    issued = api.post(f"{base(site)}/agent").json()
    assert issued["key"].startswith("sva_") and issued["has_key"] is True
    # Shown once: the state never carries it.
    assert "key" not in api.get(f"{base(site)}/agent").json()

    site.connect()  # the kit's agent configures itself with a newer key
    kit.vg.create("department", {"DepartmentNo": "5", "Name": "Turku"})
    run = site.sync()
    state = api.get(f"{base(site)}/agent").json()
    assert state["online"] is True and state["agent_version"] == "1.0.0"
    assert state["remote_version"] == "13.4" and state["last_job_kind"]
    assert {item["code"] for item in state["checklist"]["items"]} >= {
        "customer_series",
        "invoice_series",
    }
    transfers = api.get(f"{base(site)}/runs/{run.pk}/transfers").json()["results"]
    assert {"business_unit"} <= {row["entity_type"] for row in transfers}

    assert api.delete(f"{base(site)}/agent").status_code == 204
    assert api.get(f"{base(site)}/agent").json()["has_key"] is False


def test_a_member_cannot_issue_a_key(site):
    with scopes_disabled():
        member = MembershipFactory(tenant=site.tenant, role="member").user
    _token, key = api_token_create(user=member)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post(f"{base(site)}/agent").status_code in (403, 404)


def test_a_connection_without_an_agent(api, site):
    from tests.factories import connection_create_for

    with scopes_disabled():
        fortnox = connection_create_for(site.tenant, system="fortnox")
    answer = api.get(f"/api/v1/tenants/{site.tenant.pk}/connections/{fortnox.pk}/agent")
    assert answer.status_code == 404
