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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


# ---------------------------------------------------------------------------- advertised limits
# Systems that tell their limit on every answer (Visma.net ERP: X-RateLimit-Limit,
# -Remaining, -Reset in seconds, a fixed window per company and client): the limiter follows
# what the last answer said, shared by every worker through Redis. Each admission spends one
# request of the advertised remainder; an answer brings the remainder down to what the
# system counted (never up within one window: requests admitted but not yet counted keep
# their share). At `reserve` requests left every caller waits for the window's reset, so
# the system never has to answer 429. While nothing is known (before the first answer, or
# after a reset) callers are admitted; the first answer of the window tells the rest.

# KEYS[1]: the window (hash: remaining, reset_at), KEYS[2]: the pause deadline.
# ARGV[1]: reserve. Returns 0 when admitted, else the microseconds to wait.
ADVERTISED_ACQUIRE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then
  return paused_until - now
end
local remaining = redis.call('HGET', KEYS[1], 'remaining')
local reset_at = tonumber(redis.call('HGET', KEYS[1], 'reset_at') or '0')
if not remaining or reset_at <= now then
  return 0
end
if tonumber(remaining) > tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'remaining', -1)
  return 0
end
return math.max(1, reset_at - now)
"""

# KEYS[1]: the window. ARGV[1]: remaining, ARGV[2]: microseconds until the reset.
ADVERTISED_OBSERVE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local remaining = tonumber(ARGV[1])
local reset_at = now + tonumber(ARGV[2])
local stored = redis.call('HGET', KEYS[1], 'remaining')
local stored_reset = tonumber(redis.call('HGET', KEYS[1], 'reset_at') or '0')
if stored and stored_reset > now and math.abs(reset_at - stored_reset) < 2000000 then
  remaining = math.min(remaining, tonumber(stored))
end
redis.call('HSET', KEYS[1], 'remaining', remaining, 'reset_at', string.format('%.0f', reset_at))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
return 0
"""


@dataclass(frozen=True)
class Advertised:
    limit: int
    remaining: int
    reset: float  # seconds until the window starts again


def advertised_limit(headers: Mapping[str, str]) -> Advertised | None:
    """The limit an answer advertises in ``X-RateLimit-Limit``/``-Remaining``/``-Reset``
    (seconds), or None when the answer carries none (or unreadable ones)."""
    try:
        return Advertised(
            limit=int(headers["X-RateLimit-Limit"]),
            remaining=int(headers["X-RateLimit-Remaining"]),
            reset=max(0.0, float(headers["X-RateLimit-Reset"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


class RedisAdvertisedLimiter:
    """Follows the limit the remote system advertises, shared through Redis by every
    process using the same key (see above)."""

    def __init__(
        self,
        key: str,
        *,
        reserve: int = 0,
        margin: float = 0.0,
        redis_client: redis.Redis | None = None,
    ) -> None:
        self.key = key
        self.reserve = reserve
        self.margin = margin
        self.redis = redis_client or shared_redis()
        self._acquire = self.redis.register_script(ADVERTISED_ACQUIRE_SCRIPT)
        self._observe = self.redis.register_script(ADVERTISED_OBSERVE_SCRIPT)
        self._pause = self.redis.register_script(PAUSE_SCRIPT)
        self._window_key = f"ratelimit:{key}:advertised"
        self._pause_key = f"ratelimit:{key}:pause"

    def _try(self) -> float:
        waited = self._acquire(keys=[self._window_key, self._pause_key], args=[self.reserve])
        return int(waited) / MICROSECONDS

    def acquire(self, *, timeout: float | None = None) -> float:
        return _wait(self._try, timeout=timeout)

    def observe(self, advertised: Advertised) -> None:
        reset = advertised.reset + self.margin
        self._observe(
            keys=[self._window_key], args=[advertised.remaining, int(reset * MICROSECONDS)]
        )

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self._pause(keys=[self._pause_key], args=[int(seconds * MICROSECONDS)])

    def reset(self) -> None:
        self.redis.delete(self._window_key, self._pause_key)


class LocalAdvertisedLimiter:
    """The same inside one process (no Redis)."""

    def __init__(self, *, reserve: int = 0, margin: float = 0.0) -> None:
        self.reserve = reserve
        self.margin = margin
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _try(self) -> float:
        with self._lock:
            now = time.monotonic()
            if self._paused_until > now:
                return self._paused_until - now
            if self._remaining is None or self._reset_at <= now:
                return 0.0
            if self._remaining > self.reserve:
                self._remaining -= 1
                return 0.0
            return self._reset_at - now + 1e-6

    def acquire(self, *, timeout: float | None = None) -> float:
        return _wait(self._try, timeout=timeout)

    def observe(self, advertised: Advertised) -> None:
        with self._lock:
            now = time.monotonic()
            reset_at = now + advertised.reset + self.margin
            remaining = advertised.remaining
            same_window = self._reset_at > now and abs(reset_at - self._reset_at) < 2.0
            if self._remaining is not None and same_window:
                remaining = min(remaining, self._remaining)
            self._remaining, self._reset_at = remaining, reset_at

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


def advertised_rate_limiter(key: str, *, reserve: int = 0, margin: float = 0.0) -> RateLimiter:
    """The limiter for `key` that follows the limit the remote system advertises: shared
    through Redis when REDIS_URL is set, else one in-process limiter per key."""
    if settings.REDIS_URL:
        return RedisAdvertisedLimiter(key, reserve=reserve, margin=margin)
    with _local_limiters_lock:
        if key not in _local_advertised:
            _local_advertised[key] = LocalAdvertisedLimiter(reserve=reserve, margin=margin)
        return _local_advertised[key]


_local_advertised: dict[str, LocalAdvertisedLimiter] = {}


def limiter_follow(limiter: RateLimiter | None, headers: Mapping[str, str]) -> None:
    """Tell `limiter` the limit an answer advertised (limiters that follow none ignore it)."""
    observe = getattr(limiter, "observe", None)
    if observe is None:
        return
    advertised = advertised_limit(headers)
    if advertised is not None:
        observe(advertised)
