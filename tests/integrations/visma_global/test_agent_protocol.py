"""The agent protocol, service side: keys, jobs, versions, offline agents."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from agent.jobs import Ledger
from agent.runner import AgentRunner
from agent.service import Service, ServiceError
from integrations import agents
from integrations.agents import (
    AgentChannel,
    agent_key_issue,
    agent_key_revoke,
    agents_offline_mail,
)
from integrations.errors import AmbiguousWrite, TemporaryError
from integrations.models import (
    Agent,
    AgentJob,
    AgentJobStatus,
    ConnectionStatus,
    SyncRun,
    SyncTrigger,
)
from integrations.visma_global.fake.kit import SERVICE_URL, ClientTransport
from severa import clock

pytestmark = pytest.mark.django_db


def call(key: str, path: str, body: dict | None = None, *, instance: str = "one", method="POST"):
    headers = {"Authorization": f"Bearer {key}", "X-Agent-Instance": instance}
    return Client().generic(
        method,
        f"/api/v1/agent/{path}",
        data=b"" if body is None else __import__("json").dumps(body),
        content_type="application/json",
        headers=headers,
    )


def hello(key: str, *, instance: str = "one", version: str = "1.0.0"):
    return call(
        key, "heartbeat", {"agent_version": version, "remote_version": "13.4"}, instance=instance
    )


def run_of(site) -> SyncRun:
    with scopes_disabled():
        return SyncRun.objects.create(
            tenant=site.tenant,
            connection=site.connection,
            trigger=SyncTrigger.MANUAL,
            status="running",
            created_at=clock.now(),
        )


def test_a_key_is_shown_once_stored_hashed_and_activates_the_connection(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
        agent = Agent.objects.get(connection=site.connection)
        site.connection.refresh_from_db()
    assert key.startswith("sva_") and len(key) > 40
    assert agent.key_hash == hashlib.sha256(key.encode()).hexdigest()
    with scopes_disabled():
        assert key not in str(Agent.objects.filter(pk=agent.pk).values().first())
    assert site.connection.status == ConnectionStatus.ACTIVE
    answer = hello(key)
    assert answer.status_code == 200
    assert answer.json()["upgrade_required"] is False


def test_a_revoked_or_replaced_key_is_refused_at_the_next_call(site):
    with scope(tenant=site.tenant.pk):
        first = agent_key_issue(connection=site.connection, actor=site.admin)
        assert hello(first).status_code == 200
        second = agent_key_issue(connection=site.connection, actor=site.admin)
    refused = hello(first)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert hello(second).status_code == 200
    with scope(tenant=site.tenant.pk):
        agent_key_revoke(connection=site.connection, actor=site.admin)
    assert hello(second).status_code == 401
    assert call(second, "settings", method="GET").status_code == 401
    assert call("sva_made-up", "settings", method="GET").status_code == 401


def test_disconnecting_the_connection_revokes_the_agents_key(site):
    from integrations.oauth import connection_disconnect

    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
        assert hello(key).status_code == 200
        connection_disconnect(connection=site.connection, actor=site.admin)
        site.connection.refresh_from_db()
    assert site.connection.status == ConnectionStatus.DISCONNECTED
    assert hello(key).status_code == 401


def test_a_second_agent_with_the_same_key_is_refused_while_the_first_is_online(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    assert hello(key, instance="first").status_code == 200
    second = hello(key, instance="second")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "another_agent"
    # The first one gone quiet (crashed, server moved): the second takes over.
    with scopes_disabled():
        Agent.objects.update(last_seen_at=clock.now() - timedelta(minutes=10))
    assert hello(key, instance="second").status_code == 200
    assert hello(key, instance="first").status_code == 409


def test_a_job_is_handed_out_once(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    hello(key)
    run = run_of(site)
    with scopes_disabled():
        for operation in ("company", "number_series"):
            AgentJob.objects.create(
                tenant=site.tenant,
                connection=site.connection,
                run=run,
                operation=operation,
                created_at=clock.now(),
            )
    first = call(key, "jobs/next", {"wait": 0}).json()["job"]
    second = call(key, "jobs/next", {"wait": 0}).json()["job"]
    # The first job's answer was lost on the way: the same program gets it again, never
    # another program; once answered it is gone.
    assert first["operation"] == "company"
    assert second["id"] == first["id"]
    assert call(key, f"jobs/{first['id']}/result", {"result": {"company": "X"}}).status_code == 200
    assert call(key, f"jobs/{first['id']}/result", {"result": {"company": "X"}}).status_code == 200
    third = call(key, "jobs/next", {"wait": 0}).json()["job"]
    assert third["operation"] == "number_series"
    assert call(key, "jobs/next", {"wait": 0}, instance="other").status_code == 409


def test_an_old_agent_is_told_to_upgrade_and_gets_no_jobs(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    answer = hello(key, version="0.9.3").json()
    assert answer["upgrade_required"] is True
    assert answer["minimum_version"] == "1.0.0"
    refused = call(key, "jobs/next", {"wait": 0})
    assert refused.status_code == 426
    assert "install version 1.0.0" in refused.json()["error"]["message"]
    with scope(tenant=site.tenant.pk), pytest.raises(Exception, match="too old"):
        AgentChannel(run_of(site)).ready()


def test_the_service_says_when_to_come_back(site, settings):
    settings.AGENT_IDLE_SECONDS = 900
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    assert hello(key).json()["next_poll_seconds"] == 900
    assert call(key, "jobs/next", {"wait": 0}).json() == {"job": None, "next_poll_seconds": 900}
    run_of(site)  # Sync now: the agent comes at once
    assert hello(key).json()["next_poll_seconds"] == 0


def test_a_job_the_agent_never_takes_is_withdrawn(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
        hello(key)
        channel = AgentChannel(run_of(site), timeout=0.05, first_wait=0.0)
        with pytest.raises(TemporaryError) as raised:
            channel.call("create", {"register": "department", "fields": {}}, write_id="w-1")
    assert not isinstance(raised.value, AmbiguousWrite)
    with scopes_disabled():
        assert AgentJob.objects.get().status == AgentJobStatus.CANCELLED
    assert call(key, "jobs/next", {"wait": 0}).json()["job"] is None


def test_a_lost_answer_after_the_agent_wrote_never_writes_twice(site, kit, monkeypatch):
    """The agent writes, and its result's answer is lost, then the whole result: the job
    comes again and the agent answers from its ledger; Visma Global has one record."""
    site.connect()
    runner = kit.runners[site.connection.pk]
    posts = []
    real_result = Service.result

    def result_lost_twice(self, job_id, **kwargs):
        posts.append(job_id)
        if len(posts) == 1:
            raise ServiceError("unreachable", "connection reset")
        return real_result(self, job_id, **kwargs)

    monkeypatch.setattr(Service, "result", result_lost_twice)
    with scope(tenant=site.tenant.pk):
        channel = AgentChannel(run_of(site), timeout=1.0)
        created = channel.call(
            "create",
            {"register": "department", "fields": {"DepartmentNo": "7", "Name": "Sales"}},
            write_id="severa-1-business_unit-1-create",
        )
    assert created["DepartmentNo"] == "7"
    assert len(posts) == 2
    assert [row["DepartmentNo"] for row in kit.vg.records("department")] == ["7"]
    assert kit.writes() == 1
    assert runner.ledger.count() == 1


def test_a_retried_write_job_is_answered_from_the_ledger(kit):
    ledger = Ledger()
    job = {
        "id": 1,
        "operation": "create",
        "payload": {"register": "department", "fields": {"DepartmentNo": "8", "Name": "R&D"}},
        "write_id": "w-8",
    }
    from agent.jobs import job_execute

    first = job_execute(kit.vg, ledger, job)
    again = job_execute(kit.vg, ledger, {**job, "id": 2})
    assert first == again
    assert len(kit.vg.records("department")) == 1


def test_an_agent_offline_for_a_day_is_mailed_once(
    site, django_capture_on_commit_callbacks, mailoutbox
):
    site.connect()
    with scopes_disabled():
        Agent.objects.update(last_seen_at=clock.now() - timedelta(hours=23))
    assert agents_offline_mail() == 0
    with scopes_disabled():
        Agent.objects.update(last_seen_at=clock.now() - timedelta(days=1, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert agents_offline_mail() == 1
        assert agents_offline_mail() == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["erp@example.test"]
    assert "offline" in mailoutbox[0].subject.lower()
    # Back online, then gone again: a new outage, a new e-mail.
    site.kit.runners[site.connection.pk].heartbeat()
    with scopes_disabled():
        assert Agent.objects.get().offline_mailed_at is None


def test_the_agent_runs_a_sync_through_the_protocol(site, kit):
    site.connect()
    kit.vg.create("department", {"DepartmentNo": "3", "Name": "Helsinki"})
    run = site.sync()
    assert run.status == "succeeded", (run.error, run.counts)
    with scopes_disabled():
        jobs = AgentJob.objects.filter(run=run)
        assert jobs.exists()
        assert set(jobs.values_list("status", flat=True)) == {AgentJobStatus.DONE}
        assert Agent.objects.get().last_job_kind


def test_the_agent_loop_with_a_transport(site, kit):
    """AgentRunner.step against the service: nothing to do → told when to come back."""
    site.connect()
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    runner = AgentRunner(
        Service(SERVICE_URL, key, transport=ClientTransport(), sleep=lambda _s: None),
        kit.vg,
        Ledger(),
    )
    runner.heartbeat()
    assert runner.step(wait=0) == (False, agents.agent_idle_seconds())


def test_an_agent_finds_only_its_own_connections_jobs(site, other_tenant):
    from tests.factories import agent_job_create

    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    hello(key)
    with scopes_disabled():
        foreign = agent_job_create(other_tenant)
        AgentJob.objects.filter(pk=foreign.pk).update(status=AgentJobStatus.TAKEN, taken_by="one")
    answer = call(key, f"jobs/{foreign.pk}/result", {"result": {"stolen": True}})
    assert answer.status_code == 404
    assert call(key, "jobs/next", {"wait": 0}).json()["job"] is None
    with scopes_disabled():
        assert AgentJob.objects.get(pk=foreign.pk).result is None


def test_scheduled_runs_come_at_most_hourly(site, kit, monkeypatch):
    from integrations import runs

    site.connect()
    executed = []
    monkeypatch.setattr(runs, "_enqueue", lambda run: executed.append(run.pk))
    assert runs.sync_runs_queue() == 1
    with scopes_disabled():
        SyncRun.objects.update(status="succeeded", created_at=clock.now() - timedelta(minutes=59))
    assert runs.sync_runs_queue() == 0
    with scopes_disabled():
        SyncRun.objects.update(created_at=clock.now() - timedelta(minutes=61))
    assert runs.sync_runs_queue() == 1


def test_the_agent_fetches_its_settings(site):
    with scope(tenant=site.tenant.pk):
        key = agent_key_issue(connection=site.connection, actor=site.admin)
    hello(key)
    with scopes_disabled():
        Agent.objects.update(options={"customer_types": [1], "supplier_invoices_billable": False})
    settings = call(key, "settings", method="GET").json()
    assert settings["system"] == "visma_global"
    assert settings["customer_types"] == [1]
    assert settings["supplier_invoices_billable"] is False
    assert settings["masters"]["project"] == "severa"
    assert settings["minimum_version"] == "1.0.0"


def test_a_paused_connection_resumes_with_its_key_not_after_a_revoke(site):
    from django.core.exceptions import ValidationError

    from integrations.connections import connection_pause, connection_resume

    with scope(tenant=site.tenant.pk):
        agent_key_issue(connection=site.connection, actor=site.admin)
        connection_pause(connection=site.connection, reason="Paused by the company.", actor=None)
        resumed = connection_resume(connection=site.connection, actor=None)
        assert resumed.status == ConnectionStatus.ACTIVE
        connection_pause(connection=resumed, reason="Paused by the company.", actor=None)
        agent_key_revoke(connection=resumed, actor=None)
        resumed.refresh_from_db()
        with pytest.raises(ValidationError):
            connection_resume(connection=resumed, actor=None)
