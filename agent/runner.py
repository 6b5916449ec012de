"""The agent's loop: heartbeat, long-poll the next job, run it, post the result, and come
back when the service says (never in a tight loop)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from agent.jobs import JobError, Ledger, job_execute
from agent.service import Service, ServiceError
from agent.vismaglobal.interface import VismaGlobal, VismaGlobalError

logger = logging.getLogger("severa_agent")

HEARTBEAT_EVERY = 300.0
# How long to wait before trying again when the service refuses the key or the version.
REFUSED_PAUSE = 3600.0
# Another program holds the key: it is given up by the service 5 minutes after its last call.
ANOTHER_AGENT_PAUSE = 300.0


class AgentRunner:
    def __init__(
        self,
        service: Service,
        vg: VismaGlobal,
        ledger: Ledger,
        *,
        long_poll: float = 25.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.service = service
        self.vg = vg
        self.ledger = ledger
        self.long_poll = long_poll
        self.sleep = sleep
        self.upgrade_required = False
        self.last_heartbeat = 0.0
        self.jobs_done = 0

    def heartbeat(self) -> dict[str, Any]:
        try:
            version, company = self.vg.version(), self.vg.company()
        except VismaGlobalError as error:
            logger.error("Visma Global cannot be reached: %s", error)
            version, company = "", ""
        answer = self.service.heartbeat(remote_version=version, remote_company=company)
        self.last_heartbeat = time.monotonic()
        self.upgrade_required = bool(answer.get("upgrade_required"))
        if self.upgrade_required:
            logger.error(
                "This agent is too old for the service: install version %s or later.",
                answer.get("minimum_version"),
            )
        return answer

    def step(self, *, wait: float = 0.0) -> tuple[bool, int]:
        """Take and run one job (waiting up to `wait` seconds for one); (whether there was
        one, seconds until the service wants the agent back)."""
        answer = self.service.next_job(wait=wait)
        job = answer.get("job")
        if not job:
            return False, int(answer.get("next_poll_seconds") or 0)
        try:
            result = job_execute(self.vg, self.ledger, job)
        except JobError as error:
            logger.info("Job %s %s failed: %s", job["id"], job["operation"], error)
            self.service.result(job["id"], error={"kind": error.kind, "message": str(error)})
        else:
            self.service.result(job["id"], result=result)
        self.jobs_done += 1
        return True, 0

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                if (
                    self.upgrade_required
                    or time.monotonic() - self.last_heartbeat >= HEARTBEAT_EVERY
                ):
                    self.heartbeat()
                    if self.upgrade_required:
                        stop.wait(REFUSED_PAUSE)
                        continue
                had_job, come_back = self.step(wait=self.long_poll)
                if not had_job and come_back:
                    stop.wait(come_back)
            except ServiceError as error:
                if error.code == "upgrade_required":
                    self.upgrade_required = True
                    logger.error("%s", error)
                    stop.wait(REFUSED_PAUSE)
                elif error.code == "another_agent":
                    logger.error("%s", error)
                    stop.wait(ANOTHER_AGENT_PAUSE)
                elif error.code == "unauthorized":
                    logger.error("%s", error)
                    stop.wait(REFUSED_PAUSE)
                else:
                    logger.warning("%s", error)
                    stop.wait(60.0)
