"""The connector registry: one connector per accounting system, behind one protocol.

A connector speaks to one remote system: OAuth2 (authorize URL, code exchange, refresh,
client credentials, revoke) and the sync itself (`run_sync`, which hands the engine its
entity adapters). Connectors register under the catalog's system code
(`subscriptions.models.InterfaceSystem`): `fortnox`, `visma_global`, `visma_eekonomi`,
`visma_net` (`eekonomi` is accepted as another name for `visma_eekonomi`).

    from integrations.connectors import connector_register
    connector_register("fortnox", FortnoxConnector)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from django.utils.module_loading import import_string

from subscriptions.models import InterfaceSystem

if TYPE_CHECKING:
    from integrations.models import SyncRun

SYSTEM_ALIASES = {"eekonomi": InterfaceSystem.VISMA_EEKONOMI.value}


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    # When the access token stops working (aware datetime).
    expires_at: datetime
    scope: str = ""


@runtime_checkable
class Connector(Protocol):
    def authorize_url(self, state: str, redirect_uri: str) -> str: ...

    def exchange_code(self, code: str, redirect_uri: str) -> Tokens: ...

    def refresh(self, refresh_token: str) -> Tokens: ...

    def client_credentials(self, remote_tenant_id: str) -> Tokens: ...

    def revoke(self, refresh_token: str) -> None: ...

    def run_sync(self, run: SyncRun) -> None: ...

    # Also declared on the class: `facts` (integrations.facts.SystemFacts) and `kit` (the
    # dotted path of its conformance harness, next to its fake).


class UnknownSystem(LookupError):
    pass


_REGISTRY: dict[str, type[Connector]] = {}


def system_code(system: str) -> str:
    code = SYSTEM_ALIASES.get(system, system)
    if code not in InterfaceSystem.values:
        raise UnknownSystem(f"Unknown system {system!r}.")
    return code


def connector_register(system: str, connector_class: type[Connector]) -> None:
    _REGISTRY[system_code(system)] = connector_class


def connector_unregister(system: str) -> None:
    _REGISTRY.pop(system_code(system), None)


def connector_available(system: str) -> bool:
    return system_code(system) in _REGISTRY


def connector_for(system: str) -> Connector:
    """A connector for `system`; UnknownSystem when none is registered."""
    code = system_code(system)
    try:
        return _REGISTRY[code]()
    except KeyError:
        raise UnknownSystem(f"No connector is registered for {code}.") from None


def connectors_registered() -> list[str]:
    return sorted(_REGISTRY)


def connector_facts(system: str):  # -> integrations.facts.SystemFacts
    """What the connector of `system` declares about its remote system."""
    # Imported here: facts reads the models, whose records ask this registry their names.
    from integrations.facts import DEFAULT_FACTS

    return getattr(_REGISTRY.get(system_code(system)), "facts", DEFAULT_FACTS)


def connector_page_notes(connection: Any) -> list[str]:
    """What the connector of the connection's system tells on its connection page (set-up
    steps in the remote system), in the active language; its `page_notes(connection)`."""
    page_notes = getattr(_REGISTRY.get(system_code(connection.system)), "page_notes", None)
    return list(page_notes(connection)) if page_notes else []


def connector_kit(system: str) -> Any | None:
    """The conformance kit's harness of the connector of `system` (its `kit`: the dotted
    path of a class next to its fake), or None when it ships none."""
    path = getattr(_REGISTRY.get(system_code(system)), "kit", "")
    return import_string(path)() if path else None
