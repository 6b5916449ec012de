"""What a connector declares about its remote system, for the engine and the conformance kit
(tests/integrations/conformance/): the entity types and their directions, the marker a
record is looked up by after an unclear create, the scope (and the module it licenses) each
entity type needs, how the system clears a field and compares values, its rate limit, and
how sure the engine must be that an unclear create did not happen before creating again.

    FACTS = SystemFacts(
        system="fortnox",
        name="Fortnox",
        entities=(EntityFacts("customer", BOTH, marker="CustomerNumber", scope="customer",
                              module=_("customer register"), what=_("customers")), …),
        blank="API_BLANK",
        rate_limit=RateLimit(25, 5.0),
        lookup=LookupPolicy(delays=(2.0, 8.0), absent_needed=3, settle=timedelta(minutes=15)),
    )
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise

from integrations.models import TransferDirection

BOTH = frozenset({TransferDirection.TO_REMOTE, TransferDirection.TO_LOCAL})
TO_REMOTE = frozenset({TransferDirection.TO_REMOTE})
TO_LOCAL = frozenset({TransferDirection.TO_LOCAL})


@dataclass(frozen=True)
class LookupPolicy:
    """How the engine settles a create whose outcome is unknown (timeout, connection reset,
    5xx after sending): it looks the record up by its marker after each of `delays` seconds
    within the run, then once per run, each time after a delay that doubles (capped at
    `max_delay`). It creates the record again only after `absent_needed` look-ups answered
    "not there" at least `settle` after the unclear write: a system that commits late has
    committed by then."""

    delays: tuple[float, ...] = (2.0, 8.0)
    # In-run waiting for look-ups, in all, per entity type and run: past it, the records
    # left unverified wait for the next run (an outage does not stall the run).
    in_run_budget: float = 60.0
    absent_needed: int = 3
    settle: timedelta = timedelta(minutes=15)
    max_delay: timedelta = timedelta(hours=6)

    def delay(self, attempt: int) -> timedelta:
        """The pause before look-up number `attempt` (0-based)."""
        if attempt < len(self.delays):
            return timedelta(seconds=self.delays[attempt])
        last = self.delays[-1] if self.delays else 1.0
        seconds = last * 2 ** (attempt - len(self.delays) + 1)
        return min(self.max_delay, timedelta(seconds=seconds))


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window: float  # seconds


@dataclass(frozen=True)
class EntityFacts:
    entity_type: str
    directions: frozenset[str]
    # The remote field a record is looked up by ("" when the entity is never created remotely).
    marker: str = ""
    # The OAuth scope the entity needs, and the module (licence) it belongs to, in words.
    scope: str = ""
    module: str | Promise = ""
    # What is not transferred while the entity is blocked, in words ("project fees").
    what: str | Promise = ""
    # One record of the entity, in words ("project fee"), where a page names its kind.
    name: str | Promise = ""


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        text = value.strip()
        try:
            return Decimal(text).normalize() if text else ""
        except InvalidOperation:
            return text
    return value


def values_equal(sent: Any, read: Any) -> bool:
    """The default comparison: None and "" are one empty value, and numbers compare by value
    whether they come as numbers or strings ("10.00" == 10)."""
    return _plain(sent) == _plain(read)


@dataclass(frozen=True)
class SystemFacts:
    system: str
    name: str
    entities: tuple[EntityFacts, ...]
    rate_limit: RateLimit
    # The value that clears a field (Fortnox: "API_BLANK"); None: an empty string clears it.
    blank: str | None = None
    lookup: LookupPolicy = field(default_factory=LookupPolicy)
    # How a value sent compares with the value read back.
    equal: Callable[[Any, Any], bool] = values_equal

    def entity_name(self, entity_type: str) -> str:
        """One record's kind in the reader's language ("customer"); the code if undeclared."""
        return str(self.entity(entity_type).name or entity_type)

    def entity(self, entity_type: str) -> EntityFacts:
        for facts in self.entities:
            if facts.entity_type == entity_type:
                return facts
        return EntityFacts(entity_type, BOTH)

    def clear(self, value: Any) -> Any:
        """`value` as sent: an empty value becomes the system's blank marker."""
        if self.blank is not None and (value is None or value == ""):
            return self.blank
        return value

    def payload_matches(self, payload: dict, record: dict) -> bool:
        """Whether `record` (read back) already holds every value of `payload`."""
        for name, value in payload.items():
            if isinstance(value, list | dict):
                continue  # rows and objects are not compared field by field
            if value == self.blank:
                value = ""
            if not self.equal(value, record.get(name)):
                return False
        return True

    def with_lookup(self, **changes: Any) -> SystemFacts:
        return dataclasses.replace(self, lookup=dataclasses.replace(self.lookup, **changes))


DEFAULT_FACTS = SystemFacts(system="", name="", entities=(), rate_limit=RateLimit(60, 60.0))
