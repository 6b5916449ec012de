"""The Visma Global connector: Visma Global runs at the tenant's site, so the connection is
served by the agent (integrations/agents.py, the program in agent/). There is no OAuth: the
connection is authorised by issuing its agent key. A run checks the go-live checklist before
the first sync, then runs the engine with adapters whose calls are the agent's jobs
(integrations/visma_global/sync/)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from integrations.agents import AgentChannel
from integrations.errors import PermanentError
from integrations.models import Agent
from integrations.ratelimit import rate_limiter
from integrations.visma_global.checklist import checklist_as_dict, go_live_checklist
from integrations.visma_global.facts import VISMA_GLOBAL_FACTS
from integrations.visma_global.sync.run import visma_global_sync

if TYPE_CHECKING:
    from integrations.models import Connection, SyncRun

# The oldest agent that knows every operation the sync uses.
AGENT_MINIMUM_VERSION = "1.0.0"
# The entity types whose master is a setting (Connection.master_for; customers and products
# in the connection's own fields, the others in Connection.masters).
MASTER_TYPES = ("business_unit", "employee", "product", "customer", "project")
# Extra AgentChannel options for every run (tests shorten the timeout).
CHANNEL_OPTIONS: dict[str, Any] = {}


def _no_oauth(*_args: Any) -> Any:
    raise PermanentError(
        _("Visma Global connects through the agent: issue an agent key on the connection page.")
    )


def channel_for(run: SyncRun, facts=VISMA_GLOBAL_FACTS) -> AgentChannel:
    connection = run.connection
    company = connection.remote_company_id or f"connection-{connection.pk}"
    # The service paces the jobs, but the agent makes the calls a moment later, and that
    # moment varies (the long poll, the agent's own load): jobs paced at the limit can reach
    # Visma Global bunched above it. Three quarters of the limit leaves room for that.
    limiter = rate_limiter(
        f"visma_global:{company}",
        limit=max(1, facts.rate_limit.requests * 3 // 4),
        window=facts.rate_limit.window,
    )
    return AgentChannel(run, rate_limiter=limiter, **CHANNEL_OPTIONS)


class VismaGlobalConnector:
    facts = VISMA_GLOBAL_FACTS
    kit = "integrations.visma_global.fake.kit.VismaGlobalKit"
    uses_agent = True
    # The guide's policy: no constant polling; scheduled runs at most hourly (Sync now
    # starts one at once).
    schedule_interval = timedelta(hours=1)

    authorize_url = exchange_code = refresh = client_credentials = revoke = staticmethod(_no_oauth)

    def agent_minimum_version(self, connection: Connection) -> str:
        return AGENT_MINIMUM_VERSION

    def agent_settings(self, connection: Connection, agent: Agent) -> dict[str, Any]:
        options = agent.options or {}
        return {
            "masters": {entity: connection.master_for(entity) for entity in MASTER_TYPES},
            "customer_types": options.get("customer_types") or [],
            "supplier_invoices_billable": bool(options.get("supplier_invoices_billable", True)),
            "transfer_attachments": False,
        }

    def run_sync(self, run: SyncRun) -> None:

        channel = channel_for(run, self.facts)
        agent = channel.ready()
        if run.connection.last_synced_at is None:
            items = go_live_checklist(channel=channel)
            Agent.objects.filter(pk=agent.pk).update(
                options={**(agent.options or {}), "checklist": checklist_as_dict(items)}
            )
            refusals = [item.message for item in items if item.blocking and not item.ok]
            if refusals:
                raise PermanentError(
                    _("The go-live checklist is not passed: %(problems)s")
                    % {"problems": " ".join(refusals)}
                )
        visma_global_sync(run, channel, self.facts)
