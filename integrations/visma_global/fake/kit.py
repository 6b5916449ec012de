"""The conformance kit's handle on Visma Global behind the agent (tests/integrations/
conformance/): the fake Visma Global (agent/vismaglobal/fake.py) and, per connection, the
agent program itself, run in-process: while a run waits for a job, the agent long-polls the
service's `/api/v1/agent/…` endpoints (through Django's test client), runs the job against
the fake and posts the result. Faults are injected in both places: Visma Global (errors,
timeouts, late commits, unlicensed modules, its call limit) and the agent's line to the
service (429s and lost answers). Test support: nothing in a sync imports it.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import threading
from collections import Counter
from typing import Any

from django.test import Client
from django_scopes import scope, scopes_disabled

from agent.jobs import Ledger
from agent.runner import AgentRunner
from agent.service import Response, Service, ServiceError
from agent.vismaglobal.fake import FakeVismaGlobal
from integrations import agents
from integrations.agents import agent_key_issue
from integrations.facts import SystemFacts
from integrations.models import AgentJob, Connection
from integrations.visma_global import connector as vg_connector
from integrations.visma_global.facts import VISMA_GLOBAL_FACTS
from records.models import Customer

# The run waits 1 s for a job's answer (the in-process agent answers at once unless it is
# cut off); Visma Global's late commits land 0.5 s after its caller gave up.
JOB_TIMEOUT = 1.0
KIT_FACTS = VISMA_GLOBAL_FACTS.with_lookup(
    delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
)
# The register each create kind lands in, and the field its marker is in.
REGISTERS = {"product": "article", "customer": "customer", "project": "project", "invoice": "order"}
SERVICE_URL = "http://testserver"


class ClientTransport:
    """The agent's HTTPS line to the service, in-process, with faults."""

    def __init__(self, seed: int = 5):
        self.random = random.Random(seed)  # noqa: S311 (fault injection)
        self.rate_limited = 0.0
        self.lost = 0.0
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        path = url.removeprefix(SERVICE_URL)
        with self.lock:
            roll = self.random.random()
        if roll < self.rate_limited:
            self.seen["429"] += 1
            return Response(429, {"error": {"code": "rate_limited"}}, retry_after=0)
        answer = Client().generic(
            method, path, data=body or b"", content_type="application/json", headers=headers
        )
        if roll < self.rate_limited + self.lost:
            self.seen["lost_answer"] += 1
            raise ServiceError("unreachable", "The connection was reset (the answer was lost).")
        return Response(answer.status_code, answer.json() if answer.content else {})


class VismaGlobalKit:
    system = "visma_global"
    facts: SystemFacts = KIT_FACTS
    create_kinds = tuple(REGISTERS)
    settle_seconds = 1.0
    # The agent holds a key of its own: there are no OAuth tokens to refresh.
    oauth = False

    def start(self, settings: Any, monkeypatch: Any) -> None:
        limit = KIT_FACTS.rate_limit
        self.vg = FakeVismaGlobal(rate_limit=limit.requests, rate_window=limit.window)
        # The go-live checklist: the series lie apart from Severa's numbers.
        self.vg.data["series"]["customer"].update({"From": 50000, "To": 59999, "Next": 50000})
        self.vg.data["series"]["invoice"].update({"From": 900000, "To": 999999, "Next": 900000})
        self.transport = ClientTransport()
        self.runners: dict[int, AgentRunner] = {}
        self.ledgers: dict[int, Ledger] = {}
        monkeypatch.setattr(
            vg_connector, "CHANNEL_OPTIONS", {"timeout": JOB_TIMEOUT, "first_wait": 0.0}
        )
        monkeypatch.setattr(vg_connector.VismaGlobalConnector, "facts", KIT_FACTS)
        monkeypatch.setattr(agents, "job_wait", self.pump)

    def stop(self) -> None:
        self.runners.clear()

    # Connections -------------------------------------------------------------------
    def runner_for(self, connection: Connection, key: str) -> AgentRunner:
        ledger = self.ledgers.setdefault(connection.pk, Ledger())
        service = Service(SERVICE_URL, key, transport=self.transport, sleep=lambda _s: None)
        return AgentRunner(service, self.vg, ledger, long_poll=0, sleep=lambda _s: None)

    def connect(self, connection: Connection, admin: Any) -> Connection:
        """Issue the connection's agent key, configure an agent with it and let it say hello
        (every connection of the kit is to the same Visma Global company)."""
        with scope(tenant=connection.tenant_id):
            key = agent_key_issue(connection=connection, actor=admin)
        runner = self.runner_for(connection, key)
        runner.heartbeat()
        self.runners[connection.pk] = runner
        with scope(tenant=connection.tenant_id):
            return Connection.objects.get(pk=connection.pk)

    def pump(self, job_id: int) -> None:
        """While the run waits for job `job_id`: the agent takes the next job and answers."""
        with scopes_disabled():
            connection_id = (
                AgentJob.objects.filter(pk=job_id).values_list("connection_id", flat=True).first()
            )
        runner = self.runners.get(connection_id)
        if runner is None:
            return
        # An agent cut off from the service: the run times the job out, as with a real one.
        with contextlib.suppress(ServiceError):
            runner.step(wait=0)

    # Faults --------------------------------------------------------------------------
    def random_faults(self, rate: float) -> None:
        self.vg.faults = {"error": rate * 0.3, "timeout": rate * 0.25}
        self.transport.rate_limited = rate * 0.2
        self.transport.lost = rate * 0.25

    def no_faults(self) -> None:
        self.vg.faults = {"error": 0.0, "timeout": 0.0}
        self.transport.rate_limited = self.transport.lost = 0.0

    def late_commit_next_create(self, entity_type: str) -> None:
        self.vg.inject[REGISTERS[entity_type]] += 1

    def late_commits(self) -> int:
        return self.vg.late_commits

    def faults_seen(self) -> Counter:
        seen = Counter(fault for _t, _m, fault in self.vg.calls_log if fault)
        return seen + self.transport.seen

    def unlicense(self, entity_type: str) -> None:
        self.vg.unlicensed.add(self.facts.entity(entity_type).scope)

    def license(self, entity_type: str) -> None:
        self.vg.unlicensed.discard(self.facts.entity(entity_type).scope)

    # The remote side -----------------------------------------------------------------
    def remote_markers(self, entity_type: str) -> Counter:
        marker = self.facts.entity(entity_type).marker
        return Counter(str(row.get(marker)) for row in self.vg.records(REGISTERS[entity_type]))

    def expected_remote(self, company: Any) -> dict[str, set[str]]:
        """What reaches Visma Global of the kit's company: customers only with a won project,
        and the invoices of those customers."""
        with scopes_disabled():
            won = set(
                Customer.objects.filter(
                    tenant=company.tenant, projects__sales_status="won"
                ).values_list("number", flat=True)
            )
            invoices = {
                f"severa-{company.connection.pk}-invoice-{invoice.pk}"
                for invoice in company.invoices
                if invoice.customer.number in won
            }
        return {**company.expected, "customer": won, "invoice": invoices}

    def writes(self) -> int:
        return sum(
            1
            for _t, method, fault in self.vg.calls_log
            if method.endswith((".create", ".update")) and fault != "rate_refused"
        )

    def max_in_window(self) -> int:
        return self.vg.max_in_window()

    def refused_for_rate(self) -> int:
        return sum(1 for _t, _m, fault in self.vg.calls_log if fault == "rate_refused")
