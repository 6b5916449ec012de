"""An in-memory accounting system and in-memory local records, for the engine's tests.

`MemorySystem` keeps remote records per entity type and counts every read and write
request; it can be told to fail the next create ambiguously (the record is or is not created,
the answer is lost) or to refuse a record permanently. `MemoryLocal` stands in for the
records app. `MemoryAdapter` maps one entity type between the two, as a real connector's
adapter does with HTTP calls.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.connectors import Tokens
from integrations.engine import sync_entities
from integrations.errors import AmbiguousWrite, PermanentError, PermissionMissing
from integrations.facts import LookupPolicy, RateLimit, SystemFacts
from integrations.models import SyncRun, TransferDirection
from severa import clock

BOTH = frozenset({TransferDirection.TO_REMOTE, TransferDirection.TO_LOCAL})
TO_REMOTE_ONLY = frozenset({TransferDirection.TO_REMOTE})


@dataclass
class MemorySystem:
    records: dict[str, dict[str, dict]] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    # Next creates: "lost" = created but the answer lost; "failed" = not created, answer lost.
    ambiguous_creates: list[str] = field(default_factory=list)
    # Keys the system refuses with a validation error.
    refused_keys: dict[str, str] = field(default_factory=dict)
    # Next updates: "lost" = applied but the answer lost; "failed" = not applied, answer lost.
    ambiguous_updates: list[str] = field(default_factory=list)
    # Entity types the system refuses for a missing licence.
    unlicensed: set[str] = field(default_factory=set)
    next_id: itertools.count = field(default_factory=lambda: itertools.count(1001))

    @property
    def writes(self) -> int:
        return self.requests["create"] + self.requests["update"]

    def table(self, entity_type: str) -> dict[str, dict]:
        return self.records.setdefault(entity_type, {})

    def add(self, entity_type: str, key: str, name: str, **data: Any) -> str:
        remote_id = str(next(self.next_id))
        self.table(entity_type)[remote_id] = {
            "key": key,
            "name": name,
            "data": {"key": key, "name": name, **data},
            "modified_at": clock.now(),
            "reference": "",
        }
        return remote_id

    def change(self, entity_type: str, remote_id: str, **data: Any) -> None:
        row = self.table(entity_type)[remote_id]
        row["data"].update(data)
        row["name"] = row["data"]["name"]
        row["modified_at"] = clock.now()

    def record(self, entity_type: str, remote_id: str) -> RemoteRecord:
        row = self.table(entity_type)[remote_id]
        return RemoteRecord(id=remote_id, key=row["key"], name=row["name"], data=dict(row["data"]))

    def by_key(self, entity_type: str, key: str) -> list[str]:
        return [rid for rid, row in self.table(entity_type).items() if key and row["key"] == key]


@dataclass
class MemoryLocal:
    records: dict[str, dict[int, dict]] = field(default_factory=dict)
    next_id: itertools.count = field(default_factory=lambda: itertools.count(1))
    writes: Counter = field(default_factory=Counter)

    def table(self, entity_type: str) -> dict[int, dict]:
        return self.records.setdefault(entity_type, {})

    def add(self, entity_type: str, key: str, name: str, **data: Any) -> int:
        local_id = next(self.next_id)
        self.table(entity_type)[local_id] = {
            "key": key,
            "name": name,
            "data": {"key": key, "name": name, **data},
            "updated_at": _tick(),
        }
        return local_id

    def change(self, entity_type: str, local_id: int, **data: Any) -> None:
        row = self.table(entity_type)[local_id]
        row["data"].update(data)
        row["name"] = row["data"]["name"]
        row["updated_at"] = _tick()

    def record(self, entity_type: str, local_id: int) -> LocalRecord:
        row = self.table(entity_type)[local_id]
        return LocalRecord(
            id=local_id,
            key=row["key"],
            name=row["name"],
            updated_at=row["updated_at"],
            data=dict(row["data"]),
        )


_ticks = itertools.count(1)


def _tick() -> datetime:
    # Local updates in one frozen instant still need distinct, growing timestamps.
    return clock.now() + timedelta(microseconds=next(_ticks))


class MemoryAdapter:
    def __init__(
        self,
        entity_type: str,
        system: MemorySystem,
        local: MemoryLocal,
        *,
        directions: frozenset[str] = BOTH,
        match_key_only: bool = False,
        local_skip=None,
        remote_skip=None,
    ):
        self.entity_type = entity_type
        self.system = system
        self.local = local
        self.directions = directions
        self.match_key_only = match_key_only
        self._local_skip = local_skip
        self._remote_skip = remote_skip

    # Local side
    def local_changed_since(self, since):
        return [
            self.local.record(self.entity_type, local_id)
            for local_id, row in sorted(self.local.table(self.entity_type).items())
            if since is None or row["updated_at"] > since
        ]

    def find_local(self, remote):
        for local_id, row in self.local.table(self.entity_type).items():
            if remote.key and row["key"] == remote.key:
                return self.local.record(self.entity_type, local_id)
        return None

    def create_local(self, remote):
        self.local.writes["create"] += 1
        data = {k: v for k, v in remote.data.items() if k not in ("key", "name")}
        local_id = self.local.add(self.entity_type, remote.key, remote.name, **data)
        return self.local.record(self.entity_type, local_id)

    def update_local(self, local_id, remote):
        self.local.writes["update"] += 1
        self.local.change(self.entity_type, local_id, **remote.data)
        return self.local.record(self.entity_type, local_id)

    def local_skip_reason(self, local):
        return self._local_skip(local) if self._local_skip else None

    def remote_skip_reason(self, remote):
        return self._remote_skip(remote) if self._remote_skip else None

    # Remote side: every call is one request
    def list_remote(self, changed_since):
        self._licensed()
        self.system.requests["list"] += 1
        return [
            self.system.record(self.entity_type, remote_id)
            for remote_id, row in sorted(self.system.table(self.entity_type).items())
            if changed_since is None or row["modified_at"] > changed_since
        ]

    def _licensed(self):
        if self.entity_type in self.system.unlicensed:
            raise PermissionMissing(
                f"No licence for {self.entity_type} (HTTP 403)", code=2001101, scope="x"
            )

    def find_remote(self, local, reference):
        self._licensed()
        self.system.requests["find"] += 1
        for remote_id in self.system.by_key(self.entity_type, local.key):
            return self.system.record(self.entity_type, remote_id)
        for remote_id, row in self.system.table(self.entity_type).items():
            if row["reference"] == reference:
                return self.system.record(self.entity_type, remote_id)
        return None

    def create_remote(self, local, reference):
        self.system.requests["create"] += 1
        if local.key in self.system.refused_keys:
            raise PermanentError(self.system.refused_keys[local.key], code=2000637)
        mode = self.system.ambiguous_creates.pop(0) if self.system.ambiguous_creates else ""
        if mode == "failed":
            raise AmbiguousWrite("Read timed out after sending the request")
        data = {k: v for k, v in local.data.items() if k not in ("key", "name")}
        remote_id = self.system.add(self.entity_type, local.key, local.name, **data)
        self.system.table(self.entity_type)[remote_id]["reference"] = reference
        if mode == "lost":
            raise AmbiguousWrite("502 Bad Gateway after sending the request")
        return self.system.record(self.entity_type, remote_id)

    lookup_remote = find_remote

    def read_remote(self, remote_id):
        self.system.requests["read"] += 1
        if remote_id not in self.system.table(self.entity_type):
            return None
        return self.system.record(self.entity_type, remote_id)

    def remote_is_current(self, local, remote):
        return all(remote.data.get(name) == value for name, value in local.data.items())

    def update_remote(self, remote_id, local):
        self.system.requests["update"] += 1
        mode = self.system.ambiguous_updates.pop(0) if self.system.ambiguous_updates else ""
        if mode == "failed":
            raise AmbiguousWrite("Read timed out after sending the update")
        self.system.change(self.entity_type, remote_id, **local.data)
        if mode == "lost":
            raise AmbiguousWrite("502 Bad Gateway after sending the update")
        return self.system.record(self.entity_type, remote_id)


class MemoryWorld:
    """What the test connector syncs: one system, one local store, adapters per entity."""

    def __init__(self):
        self.system = MemorySystem()
        self.local = MemoryLocal()
        self.adapter_options: dict[str, dict] = {"customer": {}, "product": {}}

    def adapters(self) -> list[MemoryAdapter]:
        return [
            MemoryAdapter(entity_type, self.system, self.local, **options)
            for entity_type, options in self.adapter_options.items()
        ]


# Look-ups at once within the run (no sleeping); "not there" counts from 30 minutes after
# the unclear write, twice, before a new create.
MEMORY_FACTS = SystemFacts(
    system="memory",
    name="Memory",
    entities=(),
    rate_limit=RateLimit(100, 1.0),
    lookup=LookupPolicy(delays=(0.0, 0.0), absent_needed=2, settle=timedelta(minutes=30)),
)


class MemoryConnector:
    """The connector the tests register: OAuth against a pretend token endpoint that rotates
    refresh tokens, and a sync of `world`."""

    facts = MEMORY_FACTS
    world: MemoryWorld | None = None
    calls: list[tuple] = []
    sequence = itertools.count(1)

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return f"https://accounts.example.test/oauth/auth?state={state}&redirect_uri={redirect_uri}"

    def _tokens(self, prefix: str) -> Tokens:
        number = next(self.sequence)
        return Tokens(
            access_token=f"{prefix}-access-{number}",
            refresh_token=f"{prefix}-refresh-{number}",
            expires_at=clock.now() + timedelta(hours=1),
            scope="customer article",
        )

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        self.calls.append(("exchange", code, redirect_uri))
        if code != "good-code":
            raise PermanentError("invalid_grant: the code has expired")
        return self._tokens("code")

    def refresh(self, refresh_token: str) -> Tokens:
        self.calls.append(("refresh", refresh_token))
        if refresh_token.startswith("dead"):
            raise PermanentError("invalid_grant")
        return self._tokens("refreshed")

    def client_credentials(self, remote_tenant_id: str) -> Tokens:
        self.calls.append(("client_credentials", remote_tenant_id))
        return self._tokens(f"service-{remote_tenant_id}")

    def revoke(self, refresh_token: str) -> None:
        self.calls.append(("revoke", refresh_token))

    def run_sync(self, run: SyncRun) -> None:
        assert self.world is not None
        sync_entities(run=run, adapters=self.world.adapters(), facts=self.facts)
