"""The agent on the connection page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from integrations.models import Agent, Master
from severa import clock

pytestmark = pytest.mark.django_db


def url(name, connection):
    return reverse(name, kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk})


def test_the_key_is_shown_once_and_the_page_shows_the_agent(site, verified_client):
    client = verified_client(site.admin)
    page = client.get(url("tenant_integration", site.connection)).content.decode()
    assert "Issue the agent key" in page and "Connect Visma Global" not in page

    shown = client.post(url("tenant_integration_agent_key", site.connection)).content.decode()
    with scopes_disabled():
        agent = Agent.objects.get(connection=site.connection)
    key = next(word for word in shown.split() if word.startswith("sva_"))
    assert agent.key_prefix == key[:10] and "severa-agent configure" in shown

    page = client.get(url("tenant_integration", site.connection)).content.decode()
    assert key not in page
    assert "Offline" in page and "Rotate the key" in page


def test_online_versions_last_job_and_too_old(site, kit, verified_client):
    site.connect()
    site.sync()
    client = verified_client(site.admin)
    page = client.get(url("tenant_integration", site.connection)).content.decode()
    assert "Online" in page
    assert "Agent version 1.0.0, Visma Global version 13.4" in page
    assert "Go-live checklist" in page and "do not overlap" in page
    with scopes_disabled():
        Agent.objects.update(agent_version="0.9")
    page = client.get(url("tenant_integration", site.connection)).content.decode()
    assert "install version 1.0.0 or later" in page


def test_an_agent_offline_for_a_day_is_shown(site, verified_client):
    site.connect()
    with scopes_disabled():
        Agent.objects.update(last_seen_at=clock.now() - timedelta(days=1, hours=1))
    page = verified_client(site.admin).get(url("tenant_integration", site.connection))
    assert "offline for more than a day" in page.content.decode()


def test_revoke_and_settings(site, verified_client):
    site.connect()
    client = verified_client(site.admin)
    client.post(url("tenant_integration_agent_revoke", site.connection), {"confirm": "yes"})
    saved = client.post(
        url("tenant_integration_agent_settings", site.connection),
        {
            "customer_types": "1, 2",
            "supplier_invoices_billable": "",
            "master_business_unit": Master.REMOTE,
            "master_employee": Master.SEVERA,
            "master_project": Master.SEVERA,
        },
    )
    assert saved.status_code == 302
    with scopes_disabled():
        agent = Agent.objects.get()
        site.connection.refresh_from_db()
    assert agent.revoked_at is not None
    assert agent.options["customer_types"] == [1, 2]
    assert agent.options["supplier_invoices_billable"] is False
    assert site.connection.master_for("business_unit") == Master.REMOTE
    refused = client.post(
        url("tenant_integration_agent_settings", site.connection),
        {
            "customer_types": "one",
            "master_business_unit": "remote",
            "master_employee": "severa",
            "master_project": "severa",
        },
        follow=True,
    )
    assert "Give the customer type numbers" in refused.content.decode()
