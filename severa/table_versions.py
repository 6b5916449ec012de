"""A version per database table, replaced after every committed write to it, so that a read
from a few tables can be kept in the shared cache until one of them changes
(`versioned_read`).

Every statement Django sends passes `_watch`, installed on each new connection. An INSERT,
UPDATE, DELETE or TRUNCATE replaces the versions of the tables it names once the transaction
commits (at once in autocommit); a write whose tables cannot be read off the statement
replaces the version every entry depends on (`*`). COPY bypasses Django's cursor, so
`severa/bulk.py` reports its table with `tables_written`.

Versions are global, not per tenant: a write to a table invalidates every entry that read it.
That is coarse, but it cannot miss a write made by a queryset `update()`, a raw statement or
another process, which per-object invalidation would.

While a transaction has written to one of an entry's tables, reads inside it bypass the cache
in both directions: they must see the transaction's own rows, and what they see must not be
kept for others before it commits (or if it rolls back). Without a shared cache (no
`REDIS_URL`) nothing is kept.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction

from severa.cache import cache_get_many, cache_set_many

logger = logging.getLogger(__name__)

T = TypeVar("T")

EVERYTHING = "*"
READ_SECONDS = 10 * 60  # also bounds how long a version lost with a killed process matters
_NOT_WRITES = ("SELECT", "SAVEPO", "RELEAS", "ROLLBA", "SET ", "SHOW ", "BEGIN", "COMMIT")
# Reads unless they name a table they write (a CTE may): no write found is no write.
_READS_UNLESS = ("WITH", "EXPLAI", "VALUES", "(SELEC")
_WRITTEN = re.compile(
    r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"?(\w+)"?',
    re.IGNORECASE,
)
_READ = re.compile(r'\b(?:FROM|JOIN)\s+"(\w+)"', re.IGNORECASE)
_KEYWORDS = {"SET", "OF", "NOWAIT", "SKIP", "ONLY", "TABLE"}
_recording = threading.local()


def _version_key(table: str) -> str:
    return f"tables:version:{table}"


def _replace(tables: frozenset[str]) -> None:
    cache_set_many({_version_key(table): uuid.uuid4().hex for table in tables}, timeout=None)


def _versions(version_keys: list[str], found: dict[str, Any]) -> tuple[str | None, ...]:
    """The versions of `version_keys` given what was `found` of them; a table never written
    since the cache was emptied gets one now."""
    missing = [key for key in version_keys if key not in found]
    if missing:
        for version_key in missing:
            cache.add(version_key, uuid.uuid4().hex, timeout=None)
        found = found | cache.get_many(missing)
    return tuple(found.get(key) for key in version_keys)


def _pending(using: str | None = None) -> set[str]:
    """Tables this connection's open transaction has written (their versions are replaced
    when it commits)."""
    conn = transaction.get_connection(using)
    written: set[str] = set()
    for _sids, func, *_robust in conn.run_on_commit:
        written |= getattr(func, "table_versions", frozenset())
    return written


def tables_written(tables: Iterable[str], using: str | None = None) -> None:
    """Replace the versions of `tables` when the current transaction commits (at once outside
    one). Each table is replaced once per transaction."""
    new = frozenset(tables) - _pending(using)
    if not new:
        return

    def replace() -> None:
        _replace(new)

    replace.table_versions = new  # type: ignore[attr-defined]
    # Robust: the rows are committed whatever the cache says; an entry that outlives a lost
    # replacement expires after READ_SECONDS.
    transaction.on_commit(replace, using=using, robust=True)


def _tables_of_write(sql: str) -> frozenset[str]:
    head = sql.lstrip()[:6].upper()
    if head.startswith(_NOT_WRITES):
        return frozenset()
    tables = {name for name in _WRITTEN.findall(sql) if name.upper() not in _KEYWORDS}
    if not tables and head.startswith(_READS_UNLESS):
        return frozenset()
    return frozenset(tables or {EVERYTHING})


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    statement = sql if isinstance(sql, str) else str(sql)
    tables = _tables_of_write(statement)
    alias = context["connection"].alias
    if tables and alias in connections:  # not the server-level connection that creates databases
        tables_written(tables, using=alias)
    elif getattr(_recording, "tables", None) is not None:
        _recording.tables.update(_READ.findall(statement))
    return result


def watch_connection(sender, connection, **_kwargs) -> None:
    """`connection_created` receiver: watch every statement of the new connection."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


@functools.cache
def _shared() -> bool:
    """Whether the cache is shared by every process (Redis). A cache of one process's own
    would miss the versions other processes replace, so nothing is kept without it."""
    return "redis" in settings.CACHES["default"]["BACKEND"].lower()


def _tables(sources: Iterable[type[models.Model] | str]) -> frozenset[str]:
    return frozenset(
        source if isinstance(source, str) else source._meta.db_table for source in sources
    )


def tables_version(sources: Iterable[type[models.Model] | str]) -> str | None:
    """A token that changes with every committed write to one of the tables of `sources`,
    for a cache a process keeps of its own (read once per request). None while the open
    transaction has written one of them: what it reads then must not be kept."""
    tables = _tables(sources)
    if tables & _pending():
        return None
    version_keys = [_version_key(name) for name in sorted(tables | {EVERYTHING})]
    versions = _versions(version_keys, cache_get_many(version_keys))
    return None if None in versions else ":".join(versions)  # type: ignore[arg-type]


def versioned_read(
    key: str,
    sources: Iterable[type[models.Model] | str],
    build: Callable[[], T],
    *,
    seconds: int = READ_SECONDS,
) -> T:
    """What `build()` returns, kept in the shared cache under `key` until a write to one of
    the tables of `sources` (models or table names) commits.

    `build` must read no other table: in tests (`TABLE_VERSIONS_STRICT`) a read of an
    undeclared table raises, elsewhere the value is returned but not kept. What it reads
    through other caches (a price book) is declared by that cache's tables.
    """
    tables = _tables(sources)
    if not _shared() or tables & _pending():
        return build()
    names = sorted(tables | {EVERYTHING})
    version_keys = [_version_key(name) for name in names]
    entry_key = f"tables:read:{key}"
    found = cache.get_many([entry_key, *version_keys])
    versions = _versions(version_keys, found)
    entry = found.get(entry_key)
    if entry is not None and entry[0] == versions:
        return entry[1]
    outer = getattr(_recording, "tables", None)
    read: set[str] = set()
    _recording.tables = read
    try:
        value = build()
    finally:
        _recording.tables = outer
        if outer is not None:
            outer.update(read)
    undeclared = read - tables
    if undeclared:
        message = f"versioned_read {key!r} read undeclared tables {sorted(undeclared)}"
        if getattr(settings, "TABLE_VERSIONS_STRICT", False):
            raise ImproperlyConfigured(message)
        logger.error(message)
        return value
    if None not in versions:
        cache.set(entry_key, (versions, value), seconds)
    return value
