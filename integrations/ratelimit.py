"""A rate limiter shared by every worker and process that calls one remote connection.

Celery's ``rate_limit`` is per worker; a remote API's limit is per credential (Fortnox: 25
requests in any 5-second sliding window per client id and tenant, HTTP 429 beyond). So the
limit lives in Redis, keyed per connection, as a *sliding window log*: a sorted set of the
start times of the requests let through. One Lua script, run atomically by Redis, drops the
entries older than the window, and admits the caller only while fewer than ``limit``
remain; otherwise it answers how long until the oldest entry leaves the window. Unlike a
token bucket, this guarantees that no window of ``window`` seconds, wherever it starts, ever
holds more than ``limit`` admissions. Times come from the Redis server (``TIME``), so the
workers' clocks do not matter.

``acquire()`` blocks until the caller may send one request. ``pause(seconds)`` makes every
caller of the same key wait (after a 429 with ``Retry-After``).

The window is a little longer than the remote one (``margin``): the remote counts requests
when they *arrive*, and a request admitted first may arrive later than one admitted 5 s
after it. Without REDIS_URL (the embedded demo setup, one process) ``rate_limiter()``
returns a ``LocalRateLimiter`` with the same behaviour inside one process.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import redis
from django.conf import settings

# KEYS[1]: the log (sorted set), KEYS[2]: the pause deadline.
# ARGV[1]: limit, ARGV[2]: window in microseconds, ARGV[3]: a unique member.
# Returns 0 when admitted, else the microseconds to wait before asking again.
ACQUIRE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then
  return paused_until - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
"""

# KEYS[1]: the pause deadline. ARGV[1]: the pause in microseconds. Only ever extends it.
PAUSE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX',
             math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""

MICROSECONDS = 1_000_000


_redis_clients: dict[str, redis.Redis] = {}


def shared_redis() -> redis.Redis:
    """One connection pool per process for REDIS_URL (limiters are made per task)."""
    url = settings.REDIS_URL
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(url)
    return _redis_clients[url]


class RateLimitTimeout(Exception):
    """``acquire(timeout=...)`` gave up before the limiter admitted the caller."""


class RateLimiter(Protocol):
    def acquire(self, *, timeout: float | None = None) -> float:
        """Block until one request may be sent; the seconds waited."""
        ...

    def pause(self, seconds: float) -> None:
        """Hold back every caller of this key for `seconds` (e.g. a 429's Retry-After)."""
        ...


def _wait(limiter_try: Callable[[], float], *, timeout: float | None) -> float:
    """Ask `limiter_try` (0 = admitted, else seconds to wait) until admitted."""
    started = time.monotonic()
    while True:
        wait = limiter_try()
        if wait <= 0:
            return time.monotonic() - started
        if timeout is not None and time.monotonic() + wait - started > timeout:
            raise RateLimitTimeout(f"not admitted within {timeout} s")
        time.sleep(wait)


class RedisRateLimiter:
    """Sliding-window limiter shared through Redis by every process using the same key."""

    def __init__(
        self,
        key: str,
        *,
        limit: int,
        window: float,
        margin: float = 0.0,
        redis_client: redis.Redis | None = None,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.key = key
        self.limit = limit
        self.window = window + margin
        self.redis = redis_client or shared_redis()
        self._acquire = self.redis.register_script(ACQUIRE_SCRIPT)
        self._pause = self.redis.register_script(PAUSE_SCRIPT)
        self._log_key = f"ratelimit:{key}:log"
        self._pause_key = f"ratelimit:{key}:pause"

    def _try(self) -> float:
        waited = self._acquire(
            keys=[self._log_key, self._pause_key],
            args=[self.limit, int(self.window * MICROSECONDS), uuid.uuid4().hex],
        )
        return int(waited) / MICROSECONDS

    def acquire(self, *, timeout: float | None = None) -> float:
        return _wait(self._try, timeout=timeout)

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self._pause(keys=[self._pause_key], args=[int(seconds * MICROSECONDS)])

    def reset(self) -> None:
        """Forget the log and any pause (tests, or a connection whose credential changed)."""
        self.redis.delete(self._log_key, self._pause_key)


class LocalRateLimiter:
    """The same sliding window inside one process (no Redis): demo setups and tests."""

    def __init__(self, *, limit: int, window: float, margin: float = 0.0) -> None:
        self.limit = limit
        self.window = window + margin
        self._log: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _try(self) -> float:
        with self._lock:
            now = time.monotonic()
            if self._paused_until > now:
                return self._paused_until - now
            while self._log and self._log[0] <= now - self.window:
                self._log.popleft()
            if len(self._log) < self.limit:
                self._log.append(now)
                return 0.0
            return self._log[0] + self.window - now + 1e-6

    def acquire(self, *, timeout: float | None = None) -> float:
        return _wait(self._try, timeout=timeout)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


_local_limiters: dict[str, LocalRateLimiter] = {}
_local_limiters_lock = threading.Lock()


def rate_limiter(key: str, *, limit: int, window: float, margin: float = 0.0) -> RateLimiter:
    """The limiter for `key`: shared through Redis when REDIS_URL is set, else one
    in-process limiter per key."""
    if settings.REDIS_URL:
        return RedisRateLimiter(key, limit=limit, window=window, margin=margin)
    with _local_limiters_lock:
        if key not in _local_limiters:
            _local_limiters[key] = LocalRateLimiter(limit=limit, window=window, margin=margin)
        return _local_limiters[key]
