"""What the sync engine (integrations/engine.py) needs from each system: records as both
sides hold them, and an adapter per entity type that reads and writes them.

Entity types are named `customer`, `product`, `project`, `invoice`, `business_unit`,
`cost_centre`, `employee`, `project_fee`, … (`Connection.master_for` knows `customer` and
`product`; every other type has Severa as master).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class LocalRecord:
    id: int
    key: str  # number or code ("" when it has none)
    name: str
    updated_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.key} {self.name}".strip()


@dataclass(frozen=True)
class RemoteRecord:
    id: str
    key: str
    name: str
    # The fields the adapter maps: their hash tells whether the record changed.
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.key} {self.name}".strip()

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class EntityAdapter(Protocol):
    """One entity type of one system, both sides."""

    entity_type: str  # "customer", "product", "project", …
    # The TransferDirection values this entity type flows in.
    directions: frozenset[str]
    # Match on number/code alone (True), or number/code and name (False).
    match_key_only: bool

    def local_changed_since(self, since: datetime | None) -> Iterable[LocalRecord]: ...

    def list_remote(self, changed_since: datetime | None) -> Iterable[RemoteRecord]: ...

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        """The remote record with the local record's number/code (or carrying
        `reference`), if any; a read, never a write."""

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None: ...

    # Optional (the engine falls back when an adapter lacks them):
    # lookup_remote(local, reference) -> RemoteRecord | None: find_remote, but always asking
    #   the remote system by the record's marker (never a listing cached in the run); used
    #   to settle an unverified create.
    # read_remote(remote_id) -> RemoteRecord | None and
    # remote_is_current(local, remote) -> bool: read the record back after an update whose
    #   outcome was unknown, and tell whether it holds the local record's values already.

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        """Why this local record is not sent (e.g. a product without a matching unit)."""

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None: ...

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord: ...

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord: ...

    def create_local(self, remote: RemoteRecord) -> LocalRecord: ...

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord: ...


def names_match(first: str, second: str) -> bool:
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def local_saved(write: Any) -> Any:
    """Run a write through records.services (`write`, a callable): a refusal of its checks
    fails this record (PermanentError), with the checks' messages as the reason."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    from integrations.errors import PermanentError

    try:
        return write()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            messages = [
                message if name == NON_FIELD_ERRORS else f"{name}: {message}"
                for name, name_messages in error.message_dict.items()
                for message in name_messages
            ]
        else:
            messages = list(error.messages)
        raise PermanentError("; ".join(messages)) from None
