"""Running one job of the service against Visma Global.

A job is `{"id", "operation", "payload", "write_id"}`. Reads answer what Visma Global
holds; a write carries an idempotency id (`write_id`): what it wrote is kept in the ledger
(a SQLite file beside the config), so the same write given again (its answer was lost on
the way to the service) answers the kept result and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from agent.vismaglobal.interface import VismaGlobal, VismaGlobalError

READS = {
    "company",
    "number_series",
    "customer_types",
    "list",
    "get",
    "find",
    "order_states",
    "supplier_invoices",
}
WRITES = {"create", "update"}


class JobError(Exception):
    """The job failed; `kind` as the service knows it (temporary, ambiguous, permanent,
    permission)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Ledger:
    """What each write id wrote (kept across restarts)."""

    def __init__(self, path: str = ":memory:"):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS writes (write_id TEXT PRIMARY KEY, result TEXT NOT NULL)"
        )
        self.db.commit()

    def get(self, write_id: str) -> Any | None:
        with self.lock:
            row = self.db.execute(
                "SELECT result FROM writes WHERE write_id = ?", (write_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, write_id: str, result: Any) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO writes (write_id, result) VALUES (?, ?)",
                (write_id, json.dumps(result)),
            )
            self.db.commit()

    def count(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM writes").fetchone()[0]


def job_execute(vg: VismaGlobal, ledger: Ledger, job: dict[str, Any]) -> Any:
    """The job's result; JobError when it failed."""
    operation = job.get("operation", "")
    payload = job.get("payload") or {}
    write_id = job.get("write_id") or ""
    if operation not in READS | WRITES:
        raise JobError(
            "permanent", f"This agent does not know the operation {operation!r}: upgrade it."
        )
    if operation in WRITES:
        if not write_id:
            raise JobError("permanent", "A write needs its idempotency id.")
        done = ledger.get(write_id)
        if done is not None:
            return done
    try:
        result = _run(vg, operation, payload)
    except VismaGlobalError as error:
        kind = {
            "timeout": "ambiguous" if operation in WRITES else "temporary",
            "not_found": "permanent",
        }.get(error.kind, error.kind)
        if kind not in {"temporary", "ambiguous", "permanent", "permission"}:
            kind = "permanent"
        raise JobError(kind, str(error)) from None
    if operation in WRITES:
        ledger.put(write_id, result)
    return result


def _run(vg: VismaGlobal, operation: str, payload: dict[str, Any]) -> Any:
    if operation == "company":
        return {"company": vg.company(), "version": vg.version()}
    if operation == "number_series":
        return vg.number_series()
    if operation == "customer_types":
        return vg.customer_types()
    if operation == "list":
        return vg.list(payload["register"], changed_since=payload.get("changed_since"))
    if operation == "get":
        try:
            return vg.get(payload["register"], str(payload["key"]))
        except VismaGlobalError as error:
            if error.kind == "not_found":
                return None
            raise
    if operation == "find":
        return vg.find(payload["register"], payload["field"], str(payload["value"]))
    if operation == "create":
        return vg.create(payload["register"], payload["fields"])
    if operation == "update":
        return vg.update(payload["register"], str(payload["key"]), payload["fields"])
    if operation == "order_states":
        return vg.order_states(changed_since=payload.get("changed_since"))
    return vg.supplier_invoices(changed_since=payload.get("changed_since"))
