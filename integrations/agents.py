"""On-premises agents: the service side of the agent protocol (DESIGN §3.9).

A connection to a system that runs only at the tenant's site (Visma Global) is served by an
agent installed beside that system. The agent makes outbound HTTPS calls only
(integrations/agent_api.py, `/api/v1/agent/…`): it sends heartbeats with its version and the
system's, fetches its settings, long-polls for the next job and posts each job's result.

- **The key.** Issued per connection, shown once, stored as a sha256 hash; rotating issues a
  new one (the old one stops at its next call), revoking stops it. One running agent holds
  the key at a time: a second program with the same key is refused while the first is
  online, and a job is handed out once (claimed in one locked update).
- **Jobs.** A sync run executes the engine on the service (integrations/engine.py) with
  adapters whose remote calls are `AgentChannel.call`s: each call is a job the agent
  executes against its adapter of the system and answers. A write carries an idempotency id
  (`write_id`, from the record's deterministic reference): the agent keeps what each id
  wrote, so a job given again after a lost answer never writes twice. A job the agent has
  not taken within the timeout is withdrawn (nothing was written); a taken write whose
  answer does not come in time is an `AmbiguousWrite`, settled by the engine's look-ups.
- **No tight loop.** Every answer tells the agent when to come back: at once while a run
  has work for it, otherwise after `AGENT_IDLE_SECONDS`; runs themselves are queued at most
  hourly by the schedule, or at once by *Sync now*.
- **Versions.** An agent older than the system's minimum version gets no jobs and is told to
  upgrade; the connection page warns.
- **Offline.** An agent silent for `AGENT_OFFLINE_AFTER` is offline: the page says so, and
  the error addresses get one e-mail per outage (`agents_offline_mail`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounts.audit import AuditAction, audit_record
from accounts.mail import mail_enqueue
from accounts.models import User
from integrations.connections import connection_activation_errors, connection_status_move
from integrations.connectors import connector_for
from integrations.errors import (
    AmbiguousWrite,
    AuthorizationError,
    PermanentError,
    PermissionMissing,
    TemporaryError,
)
from integrations.models import (
    Agent,
    AgentJob,
    AgentJobStatus,
    Connection,
    ConnectionStatus,
    SyncRun,
)
from severa import clock

logger = logging.getLogger(__name__)

KEY_PREFIX = "sva_"
# An agent not heard from for this long is shown offline; a run does not wait for it.
AGENT_ONLINE_WINDOW = timedelta(minutes=5)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def agent_idle_seconds() -> int:
    """When an idle agent comes back (no run has work for it)."""
    return int(_setting("AGENT_IDLE_SECONDS", 60))


def agent_offline_after() -> timedelta:
    return _setting("AGENT_OFFLINE_AFTER", timedelta(days=1))


def job_timeout() -> float:
    """Seconds a run waits for the agent to take and answer one job."""
    return float(_setting("AGENT_JOB_TIMEOUT", 60.0))


def key_hash(*, key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def version_tuple(*, version: str) -> tuple[int, ...]:
    parts = []
    for part in (version or "").strip().split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts) or (0,)


def minimum_agent_version(*, connection: Connection) -> str:
    """The oldest agent version the connection's system and settings work with."""

    connector = connector_for(connection.system)
    minimum = getattr(connector, "agent_minimum_version", None)
    return minimum(connection) if callable(minimum) else str(minimum or "0")


def agent_too_old(*, agent: Agent) -> bool:
    if not agent.agent_version:
        return False
    minimum = minimum_agent_version(connection=agent.connection)
    return version_tuple(version=agent.agent_version) < version_tuple(version=minimum)


def agent_of(*, connection: Connection) -> Agent:
    now = clock.now()
    agent, _created = Agent.objects.get_or_create(
        connection=connection,
        defaults={"tenant_id": connection.tenant_id, "created_at": now, "updated_at": now},
    )
    return agent


def _audit(connection: Connection, actor: User | None, action: AuditAction) -> None:
    audit_record(
        actor=actor,
        action=action,
        tenant=connection.tenant_id,
        subject=connection,
        details={"system": connection.system},
    )


@transaction.atomic
def agent_key_issue(*, connection: Connection, actor: User | None) -> str:
    """A new key for the connection's agent (the old one, if any, stops working); returned
    once, stored only as its hash. The connection becomes active when its settings allow:
    the agent is its authorisation."""

    agent = agent_of(connection=connection)
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    rotated = bool(agent.key_hash)
    agent.key_hash = key_hash(key=key)
    agent.key_prefix = key[:10]
    agent.key_issued_at = now
    agent.revoked_at = None
    agent.instance_id = ""
    agent.updated_at = now
    agent.save()
    connection.refresh_from_db(fields=["status", "status_reason"])
    if connection.status != ConnectionStatus.ACTIVE and not connection_activation_errors(
        connection=connection
    ):
        Connection.objects.filter(pk=connection.pk).update(
            authorized_at=now, authorized_by=actor, activated_at=connection.activated_at or now
        )
        connection.authorized_at = now
        connection.activated_at = connection.activated_at or now
        connection_status_move(
            connection=connection,
            to=ConnectionStatus.ACTIVE,
            actor=actor,
            action=AuditAction.INTEGRATION_CONNECTED,
        )
    else:
        Connection.objects.filter(pk=connection.pk).update(authorized_at=now)
        connection.authorized_at = now
    _audit(
        connection,
        actor,
        (
            AuditAction.INTEGRATION_AGENT_KEY_ROTATED
            if rotated
            else AuditAction.INTEGRATION_AGENT_KEY_ISSUED
        ),
    )
    return key


@transaction.atomic
def agent_key_revoke(*, connection: Connection, actor: User | None) -> None:
    """The agent's key stops working at its next call."""
    agent = Agent.objects.select_for_update().filter(connection=connection).first()
    if agent is None or not agent.has_key:
        return
    now = clock.now()
    agent.revoked_at = now
    agent.instance_id = ""
    agent.updated_at = now
    agent.save(update_fields=["revoked_at", "instance_id", "updated_at"])
    _audit(connection, actor, AuditAction.INTEGRATION_AGENT_KEY_REVOKED)


class AgentRefused(Exception):
    """The agent's call is refused: `status` is the HTTP status, `code` a short word."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code


def agent_authenticate(*, key: str, instance_id: str) -> Agent:
    """The agent holding `key`, claimed by the running program `instance_id`. Refused: an
    unknown or revoked key (401), another program online with the same key (409)."""
    if not key or not instance_id:
        raise AgentRefused(401, "unauthorized", _("The agent key is missing or not valid."))
    with scopes_disabled(), transaction.atomic():
        agent = (
            Agent.objects.select_for_update()
            .select_related("connection", "connection__tenant")
            .filter(key_hash=key_hash(key=key))
            .first()
        )
        if agent is None or agent.revoked_at is not None:
            raise AgentRefused(
                401, "unauthorized", _("The agent key is not valid: it was revoked or replaced.")
            )
        now = clock.now()
        if agent.instance_id and agent.instance_id != instance_id:
            holder_online = agent.last_seen_at and now - agent.last_seen_at < AGENT_ONLINE_WINDOW
            if holder_online:
                raise AgentRefused(
                    409,
                    "another_agent",
                    _(
                        "Another agent with this key is running (on %(host)s). Stop it, or "
                        "issue a new key for this one."
                    )
                    % {"host": agent.hostname or "?"},
                )
            # The earlier program is gone: its jobs go back to the queue.
            AgentJob.objects.filter(
                connection_id=agent.connection_id, status=AgentJobStatus.TAKEN
            ).update(status=AgentJobStatus.QUEUED, taken_by="")
        agent.instance_id = instance_id
        agent.last_seen_at = now
        agent.offline_mailed_at = None
        agent.save(update_fields=["instance_id", "last_seen_at", "offline_mailed_at"])
    return agent


def _work_waiting(agent: Agent) -> bool:
    return (
        AgentJob.objects.filter(
            connection_id=agent.connection_id, status=AgentJobStatus.QUEUED
        ).exists()
        or SyncRun.objects.filter(
            connection_id=agent.connection_id, status__in=("queued", "running")
        ).exists()
    )


def agent_next_poll(*, agent: Agent) -> int:
    """Seconds until the agent should come back: at once while a run has work for it."""
    return 0 if _work_waiting(agent) else agent_idle_seconds()


def agent_heartbeat(
    *,
    agent: Agent,
    agent_version: str,
    remote_version: str = "",
    hostname: str = "",
    remote_company: str = "",
) -> dict[str, Any]:
    """Record what the agent tells about itself; answer whether it must upgrade and when
    to come back."""
    agent.agent_version = agent_version[:40]
    agent.remote_version = remote_version[:40]
    agent.hostname = hostname[:200]
    agent.last_seen_at = clock.now()
    agent.updated_at = agent.last_seen_at
    agent.save(
        update_fields=["agent_version", "remote_version", "hostname", "last_seen_at", "updated_at"]
    )
    connection = agent.connection
    if remote_company and connection.remote_company_id != remote_company[:100]:
        Connection.objects.filter(pk=connection.pk).update(remote_company_id=remote_company[:100])
        connection.remote_company_id = remote_company[:100]
    minimum = minimum_agent_version(connection=connection)
    return {
        "upgrade_required": agent_too_old(agent=agent),
        "minimum_version": minimum,
        "next_poll_seconds": agent_next_poll(agent=agent),
    }


def agent_settings(*, agent: Agent) -> dict[str, Any]:
    """What the agent needs to know of its connection (only its key is kept locally)."""

    connection = agent.connection
    connector = connector_for(connection.system)
    extra = getattr(connector, "agent_settings", None)
    return {
        "connection": connection.pk,
        "system": connection.system,
        "status": connection.status,
        "minimum_version": minimum_agent_version(connection=connection),
        "next_poll_seconds": agent_next_poll(agent=agent),
        **(extra(connection, agent) if callable(extra) else {}),
    }


def job_as_dict(*, job: AgentJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "operation": job.operation,
        "payload": job.payload,
        "write_id": job.write_id,
    }


def agent_job_next(*, agent: Agent, wait: float = 0.0) -> AgentJob | None:
    """Claim the oldest queued job of the agent's connection (waiting up to `wait` seconds
    for one); None when there is none. A job is claimed by one call only."""
    if agent_too_old(agent=agent):
        raise AgentRefused(
            426,
            "upgrade_required",
            _("This agent (version %(version)s) is too old: install version %(minimum)s or later.")
            % {
                "version": agent.agent_version,
                "minimum": minimum_agent_version(connection=agent.connection),
            },
        )
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        with scopes_disabled(), transaction.atomic():
            # A job this program took but never answered (the answer to its request was
            # lost) comes again first: its ledger keeps a write from happening twice.
            job = (
                AgentJob.objects.select_for_update(skip_locked=True)
                .filter(connection_id=agent.connection_id)
                .filter(
                    Q(status=AgentJobStatus.QUEUED)
                    | Q(
                        status=AgentJobStatus.TAKEN,
                        taken_by=agent.instance_id,
                        finished_at__isnull=True,
                    )
                )
                .order_by("id")
                .first()
            )
            if job is not None:
                now = clock.now()
                job.status = AgentJobStatus.TAKEN
                job.taken_by = agent.instance_id
                job.taken_at = now
                job.save(update_fields=["status", "taken_by", "taken_at"])
                Agent.objects.filter(pk=agent.pk).update(
                    last_job_at=now, last_job_kind=job.operation[:60], last_seen_at=now
                )
                return job
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.25)


def agent_job_result(
    *, agent: Agent, job_id: int, result: Any = None, error: dict | None = None
) -> AgentJob:
    """Record the answer of a job the agent took. Posting the same answer again (its first
    answer was lost) changes nothing."""
    with scopes_disabled(), transaction.atomic():
        job = (
            AgentJob.objects.select_for_update()
            .filter(pk=job_id, connection_id=agent.connection_id)
            .first()
        )
        if job is None:
            raise AgentRefused(404, "not_found", _("No such job."))
        if job.status in (AgentJobStatus.DONE, AgentJobStatus.FAILED):
            return job
        if job.status != AgentJobStatus.TAKEN or job.taken_by != agent.instance_id:
            raise AgentRefused(409, "not_taken", _("This job is not taken by this agent."))
        job.status = AgentJobStatus.FAILED if error else AgentJobStatus.DONE
        job.result = None if error else result
        job.error = error or None
        job.finished_at = clock.now()
        job.save(update_fields=["status", "result", "error", "finished_at"])
    return job


# ----------------------------------------------------------------------------- the run side
def job_wait(*, job_id: int) -> None:
    """Between two looks at a job the run waits for (tests run the agent here instead)."""
    time.sleep(0.1)


def agent_online(*, agent: Agent | None) -> bool:
    return bool(
        agent and agent.last_seen_at and clock.now() - agent.last_seen_at < AGENT_ONLINE_WINDOW
    )


ERRORS: dict[str, Callable[[str], Exception]] = {
    "temporary": TemporaryError,
    "ambiguous": AmbiguousWrite,
    "permanent": PermanentError,
    "permission": PermissionMissing,
    "authorization": AuthorizationError,
}


class AgentChannel:
    """A sync run's calls to the system behind the agent, each one a job."""

    def __init__(
        self,
        run: SyncRun,
        *,
        timeout: float | None = None,
        first_wait: float | None = None,
        rate_limiter=None,
    ):
        self.run = run
        self.connection = run.connection
        self.timeout = job_timeout() if timeout is None else timeout
        # The first job also waits for an idle agent to come back (it was told to return
        # after AGENT_IDLE_SECONDS and may be in a long poll until then).
        self.first_wait = (
            agent_idle_seconds() + float(_setting("AGENT_LONG_POLL", 25))
            if first_wait is None
            else first_wait
        )
        self.agent_came = False
        self.rate_limiter = rate_limiter
        self.calls = 0

    def ready(self) -> Agent:
        """The agent, when it can take this run's jobs; else why not (the run fails)."""
        agent = Agent.objects.filter(connection=self.connection).first()
        if agent is None or not agent.has_key:
            raise AuthorizationError(
                _("The connection has no agent key: issue one and configure the agent.")
            )
        if not agent_online(agent=agent):
            raise TemporaryError(
                _("The agent has not been in touch since %(when)s: check that it runs.")
                % {
                    "when": agent.last_seen_at.isoformat(timespec="minutes")
                    if agent.last_seen_at
                    else _("never")
                }
            )
        if agent_too_old(agent=agent):
            raise PermanentError(
                _(
                    "The agent (version %(version)s) is too old for these settings: "
                    "install version %(minimum)s or later."
                )
                % {
                    "version": agent.agent_version,
                    "minimum": minimum_agent_version(connection=self.connection),
                }
            )
        return agent

    def call(self, operation: str, payload: dict | None = None, *, write_id: str = "") -> Any:
        """Have the agent run `operation`; its result. A write (`write_id` given) whose
        answer does not come is an AmbiguousWrite. A call Visma Global refused for now (busy,
        locked) is given again after a pause, as a cloud client retries a 429 or a 503; a
        write keeps its `write_id`, so the agent's ledger never lets it write twice."""
        pauses = list(_setting("AGENT_TEMPORARY_RETRY_PAUSES", (0.5, 2.0, 5.0)))
        while True:
            try:
                return self._call_once(operation, payload, write_id=write_id)
            except _RefusedForNow as refused:
                if not pauses:
                    raise TemporaryError(str(refused)) from None
                time.sleep(pauses.pop(0))

    def _call_once(self, operation: str, payload: dict | None, *, write_id: str) -> Any:
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(timeout=max(self.timeout, 30.0))
        self.calls += 1
        job = AgentJob.objects.create(
            tenant_id=self.connection.tenant_id,
            connection=self.connection,
            run=self.run,
            operation=operation,
            payload=payload or {},
            is_write=bool(write_id),
            write_id=write_id,
            created_at=clock.now(),
        )
        deadline = time.monotonic() + self.timeout + (0 if self.agent_came else self.first_wait)
        while True:
            job_wait(job_id=job.pk)
            job.refresh_from_db(fields=["status", "result", "error"])
            if job.status in (AgentJobStatus.DONE, AgentJobStatus.FAILED):
                self.agent_came = True
                break
            if time.monotonic() >= deadline:
                withdrawn = AgentJob.objects.filter(pk=job.pk, status=AgentJobStatus.QUEUED).update(
                    status=AgentJobStatus.CANCELLED, finished_at=clock.now()
                )
                # Taken, but the run stops waiting: not given again (a late answer is
                # still recorded).
                AgentJob.objects.filter(pk=job.pk, status=AgentJobStatus.TAKEN).update(
                    finished_at=clock.now()
                )
                if withdrawn or not write_id:
                    raise TemporaryError(
                        _("The agent did not answer in time (%(operation)s).")
                        % {"operation": operation}
                    )
                raise AmbiguousWrite(
                    _("The agent took the write but did not answer in time (%(operation)s).")
                    % {"operation": operation}
                )
        if job.status == AgentJobStatus.FAILED:
            error = job.error or {}
            message = str(error.get("message") or operation)
            if error.get("kind") == "temporary":
                raise _RefusedForNow(message)
            raise ERRORS.get(error.get("kind", ""), PermanentError)(message)
        return job.result


class _RefusedForNow(Exception):
    """The agent ran the job and Visma Global refused it for now (busy, locked)."""


# ----------------------------------------------------------------------------- offline mail
def agents_offline_mail() -> int:
    """Celery beat: e-mail the error addresses of each connection whose agent has been
    silent for AGENT_OFFLINE_AFTER, once per outage; returns how many were told."""

    told = 0
    cutoff = clock.now() - agent_offline_after()
    with scopes_disabled():
        silent = Agent.objects.filter(
            key_hash__gt="",
            revoked_at__isnull=True,
            offline_mailed_at__isnull=True,
            last_seen_at__lt=cutoff,
            connection__status=ConnectionStatus.ACTIVE,
        ).select_related("connection", "connection__tenant")
        for agent in silent:
            connection = agent.connection
            with transaction.atomic():
                claimed = Agent.objects.filter(pk=agent.pk, offline_mailed_at__isnull=True).update(
                    offline_mailed_at=clock.now()
                )
                if not claimed:
                    continue
                mail_enqueue(
                    to=list(connection.error_emails or []),
                    template="integration_agent_offline",
                    context={
                        "tenant": connection.tenant.name,
                        "system": str(connection.get_system_display()),
                        "last_seen": agent.last_seen_at.isoformat(),
                        "path": reverse(
                            "tenant_integration",
                            kwargs={
                                "tenant_id": connection.tenant_id,
                                "connection_id": connection.pk,
                            },
                        ),
                    },
                    language=connection.tenant.language,
                    tenant=connection.tenant,
                    # One notice per silence: a new one only after the agent was seen again.
                    dedupe_key=(
                        f"integration_agent_offline:{agent.pk}:{agent.last_seen_at.isoformat()}"
                    ),
                )
            told += 1
    return told
