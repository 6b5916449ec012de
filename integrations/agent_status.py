"""What the connection page and the API show of a connection's agent."""

from __future__ import annotations

from typing import Any

from integrations.agents import (
    agent_offline_after,
    agent_online,
    agent_too_old,
    minimum_agent_version,
)
from integrations.models import Agent, Connection
from severa import clock


def agent_status(connection: Connection) -> dict[str, Any]:
    agent = Agent.objects.filter(connection=connection).first()
    online = agent_online(agent=agent)
    last_seen = agent.last_seen_at if agent else None
    return {
        "has_key": bool(agent and agent.has_key),
        "key_prefix": agent.key_prefix if agent and agent.has_key else "",
        "key_issued_at": agent.key_issued_at if agent and agent.has_key else None,
        "online": online,
        "offline_for_a_day": bool(
            agent
            and agent.has_key
            and (last_seen is None or clock.now() - last_seen >= agent_offline_after())
            and (
                last_seen is not None or clock.now() - agent.key_issued_at >= agent_offline_after()
            )
        ),
        "last_seen_at": last_seen,
        "agent_version": agent.agent_version if agent else "",
        "remote_version": agent.remote_version if agent else "",
        "minimum_version": minimum_agent_version(connection=connection),
        "too_old": bool(agent and agent_too_old(agent=agent)),
        "last_job_at": agent.last_job_at if agent else None,
        "last_job_kind": agent.last_job_kind if agent else "",
        "checklist": (agent.options or {}).get("checklist") if agent else None,
    }
