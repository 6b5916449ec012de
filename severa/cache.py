"""Django's Redis cache with one redis-py client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and redis-py fills a table
of a few hundred response callbacks in each one: about a tenth of a millisecond of CPU per
call, several times per page. The client is safe to share (connections come from its pool).
"""

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


def cache_forget(keys: list[str]) -> None:
    """Drop cache entries now and again after the current transaction commits: a request
    that rebuilt an entry from the old rows between the two does not keep it."""
    if not keys:
        return
    from django.core.cache import cache
    from django.db import transaction

    def forget() -> None:
        cache.delete_many(keys)

    forget()
    transaction.on_commit(forget)
