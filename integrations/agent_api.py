"""The agent protocol over HTTPS, `/api/v1/agent/…` (integrations/agents.py has the rules).

Every call carries `Authorization: Bearer <agent key>` and `X-Agent-Instance: <id of the
running program>`; answers are JSON, refusals `{"error": {"code", "message"}}` with 401 (key
unknown, revoked or replaced), 409 (another agent holds the key), 426 (upgrade required).

- `POST heartbeat` `{"agent_version", "remote_version", "hostname", "remote_company"}` →
  `{"upgrade_required", "minimum_version", "next_poll_seconds"}`
- `GET settings` → the connection's settings for the agent
- `POST jobs/next` `{"wait": seconds}` → `{"job": {...}}` or `{"job": null,
  "next_poll_seconds": n}` (held up to `wait` seconds, at most AGENT_LONG_POLL seconds)
- `POST jobs/<id>/result` `{"result": …}` or `{"error": {"kind", "message"}}` → `{"ok": true}`
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from integrations.agents import (
    AgentRefused,
    agent_authenticate,
    agent_heartbeat,
    agent_job_next,
    agent_job_result,
    agent_next_poll,
    agent_settings,
    job_as_dict,
)
from integrations.models import Agent

ERROR_KINDS = frozenset({"temporary", "ambiguous", "permanent", "permission", "authorization"})


def _refusal(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise AgentRefused(400, "bad_request", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise AgentRefused(400, "bad_request", "The body must be a JSON object.")
    return body


def agent_view(method: str) -> Callable:
    def wrap(handler: Callable[[HttpRequest, Agent, dict], Any]) -> Callable:
        @csrf_exempt
        @require_http_methods([method])
        def view(request: HttpRequest, **kwargs: Any) -> JsonResponse:
            header = request.headers.get("Authorization", "")
            key = header[7:].strip() if header.lower().startswith("bearer ") else ""
            try:
                with translation.override(request.headers.get("Accept-Language", "en")[:2] or "en"):
                    agent = agent_authenticate(
                        key=key, instance_id=request.headers.get("X-Agent-Instance", "")
                    )
                    with scope(tenant=agent.tenant_id):
                        return JsonResponse(handler(request, agent, _body(request), **kwargs))
            except AgentRefused as refused:
                return _refusal(refused.status, refused.code, str(refused))

        return view

    return wrap


@agent_view("POST")
def heartbeat_view(request: HttpRequest, agent: Agent, body: dict) -> dict:
    return agent_heartbeat(
        agent=agent,
        agent_version=str(body.get("agent_version") or ""),
        remote_version=str(body.get("remote_version") or ""),
        hostname=str(body.get("hostname") or ""),
        remote_company=str(body.get("remote_company") or ""),
    )


@agent_view("GET")
def settings_view(request: HttpRequest, agent: Agent, body: dict) -> dict:
    return agent_settings(agent=agent)


@agent_view("POST")
def job_next_view(request: HttpRequest, agent: Agent, body: dict) -> dict:
    try:
        wait = float(body.get("wait") or 0)
    except (TypeError, ValueError):
        wait = 0.0
    wait = min(max(wait, 0.0), float(getattr(settings, "AGENT_LONG_POLL", 25)))
    job = agent_job_next(agent=agent, wait=wait)
    if job is None:
        return {"job": None, "next_poll_seconds": agent_next_poll(agent=agent)}
    return {"job": job_as_dict(job=job), "next_poll_seconds": 0}


@agent_view("POST")
def job_result_view(request: HttpRequest, agent: Agent, body: dict, agentjob_id: int) -> dict:
    error = body.get("error")
    if error is not None:
        if not isinstance(error, dict) or error.get("kind") not in ERROR_KINDS:
            raise AgentRefused(
                400, "bad_request", "error.kind is one of " + ", ".join(sorted(ERROR_KINDS))
            )
        error = {"kind": error["kind"], "message": str(error.get("message") or "")[:2000]}
    elif "result" not in body:
        raise AgentRefused(400, "bad_request", "Give result or error.")
    agent_job_result(agent=agent, job_id=agentjob_id, result=body.get("result"), error=error)
    return {"ok": True, "next_poll_seconds": 0}


urlpatterns = [
    path("heartbeat", heartbeat_view, name="api_agent_heartbeat"),
    path("settings", settings_view, name="api_agent_settings"),
    path("jobs/next", job_next_view, name="api_agent_job_next"),
    path("jobs/<int:agentjob_id>/result", job_result_view, name="api_agent_job_result"),
]
