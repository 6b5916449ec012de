"""Django's Redis cache with one redis-py client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and redis-py fills a table
of a few hundred response callbacks in each one: about a tenth of a millisecond of CPU per
call, several times per page. The client is safe to share (connections come from its pool).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write: bool = False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:
                pool = self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient


# What one request has read from the shared cache already (see `cache_read_once`).
_read: ContextVar[dict[str, Any] | None] = ContextVar("severa_cache_read", default=None)


@contextmanager
def cache_read_once(keys: Iterable[str] = ()) -> Iterator[None]:
    """Within the block (a request), `cache_get` reads each key from the shared cache once:
    `keys` in one round trip now, others on first use. What this process writes or forgets
    meanwhile through `cache_set` and `cache_forget` replaces what was read."""
    from django.core.cache import cache

    keys = list(keys)
    found = cache.get_many(keys) if keys else {}
    token = _read.set({key: found.get(key) for key in keys})
    try:
        yield
    finally:
        _read.reset(token)


def cache_get(key: str) -> Any:
    """The shared cache's value of `key` (None when absent), read once per request."""
    from django.core.cache import cache

    read = _read.get()
    if read is None:
        return cache.get(key)
    if key not in read:
        read[key] = cache.get(key)
    return read[key]


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    """`cache.get_many(keys)`, each key read once per request (see `cache_get`)."""
    from django.core.cache import cache

    read = _read.get()
    if read is None:
        return cache.get_many(keys)
    unread = [key for key in keys if key not in read]
    if unread:
        found = cache.get_many(unread)
        read.update({key: found.get(key) for key in unread})
    return {key: read[key] for key in keys if read[key] is not None}


def cache_set_many(values: dict[str, Any], timeout: int | None) -> None:
    from django.core.cache import cache

    cache.set_many(values, timeout)
    read = _read.get()
    if read is not None:
        read.update(values)


def cache_set(key: str, value: Any, timeout: int | None) -> None:
    from django.core.cache import cache

    cache.set(key, value, timeout)
    read = _read.get()
    if read is not None:
        read[key] = value


def cache_forget(keys: list[str]) -> None:
    """Drop cache entries now and again after the current transaction commits: a request
    that rebuilt an entry from the old rows between the two does not keep it."""
    if not keys:
        return
    from django.core.cache import cache
    from django.db import transaction

    def forget() -> None:
        cache.delete_many(keys)
        read = _read.get()
        if read is not None:
            for key in keys:
                read[key] = None

    forget()
    transaction.on_commit(forget)
