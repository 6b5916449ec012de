"""The shared cache keeps one Redis client per connection pool."""

import pytest
from django.core.cache import cache


@pytest.mark.skipif(
    not hasattr(getattr(cache, "_cache", None), "get_client"), reason="Redis cache not configured"
)
def test_one_redis_client_serves_every_call():
    cache.set("severa-cache-test", {"a": 1}, 10)
    first = cache._cache.get_client("severa-cache-test")
    assert cache.get("severa-cache-test") == {"a": 1}
    assert cache._cache.get_client("severa-cache-test", write=True) is first
    cache.delete("severa-cache-test")
    assert cache.get("severa-cache-test") is None
