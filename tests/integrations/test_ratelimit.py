"""The shared sliding-window limiter: never more than `limit` admissions in any window, for
every process using the key, and a pause after a 429 holds all of them back."""

import multiprocessing
import time
import uuid

import pytest
import redis
from django.conf import settings

from integrations.fortnox.client import RATE_LIMIT, RATE_MARGIN, RATE_WINDOW, FortnoxClient
from integrations.fortnox.fake import FakeFortnoxServer
from integrations.ratelimit import (
    LocalRateLimiter,
    RateLimitTimeout,
    RedisRateLimiter,
    rate_limiter,
)

# The waits are measured against upper bounds (a busy machine makes them late).
pytestmark = pytest.mark.serial


@pytest.fixture
def key():
    name = f"test-{uuid.uuid4().hex}"
    connection = redis.Redis.from_url(settings.REDIS_URL)
    yield name
    connection.delete(f"ratelimit:{name}:log", f"ratelimit:{name}:pause")


def admissions(limiter, count):
    started = time.monotonic()
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(time.monotonic() - started)
    return times


@pytest.mark.parametrize("kind", ["redis", "local"])
def test_admits_the_limit_then_waits_for_the_window(key, kind):
    if kind == "redis":
        limiter = RedisRateLimiter(key, limit=5, window=0.5)
    else:
        limiter = LocalRateLimiter(limit=5, window=0.5)

    times = admissions(limiter, 11)

    assert times[4] < 0.2
    assert 0.5 <= times[5] < 0.9
    assert 1.0 <= times[10] < 1.6


def test_pause_holds_back_every_limiter_of_the_key(key):
    ours = RedisRateLimiter(key, limit=100, window=1.0)
    theirs = RedisRateLimiter(
        key, limit=100, window=1.0, redis_client=redis.Redis.from_url(settings.REDIS_URL)
    )
    other_key = RedisRateLimiter(key + "-other", limit=100, window=1.0)

    ours.pause(0.4)
    ours.pause(0.1)  # a shorter pause never shortens a longer one

    assert other_key.acquire() < 0.2
    assert 0.3 <= theirs.acquire() < 0.8
    other_key.reset()


def test_acquire_gives_up_at_the_timeout(key):
    limiter = RedisRateLimiter(key, limit=1, window=5.0)
    limiter.acquire()

    with pytest.raises(RateLimitTimeout):
        limiter.acquire(timeout=0.1)


def test_rate_limiter_uses_redis_when_configured_else_one_local_limiter_per_key(settings, key):
    assert isinstance(rate_limiter(key, limit=1, window=1.0), RedisRateLimiter)
    settings.REDIS_URL = ""

    local = rate_limiter(key, limit=1, window=1.0)

    assert isinstance(local, LocalRateLimiter)
    assert rate_limiter(key, limit=1, window=1.0) is local


def _hammer(api_url, token, redis_url, key, count, start, statuses):
    """One worker process: its own Redis connection and HTTP session, `count` requests."""
    limiter = RedisRateLimiter(
        key,
        limit=RATE_LIMIT,
        window=RATE_WINDOW,
        margin=RATE_MARGIN,
        redis_client=redis.Redis.from_url(redis_url),
    )
    client = FortnoxClient(
        token, rate_limiter=limiter, base_url=api_url, timeout=5.0, rate_limit_attempts=0
    )
    statuses.put("ready")
    start.wait()
    for _ in range(count):
        try:
            client.request("GET", "units")
            statuses.put(200)
        except Exception as error:  # noqa: BLE001 (reported to the test)
            statuses.put(repr(error))


def test_two_processes_never_exceed_25_requests_in_any_5_seconds(key):
    """Two worker processes, 25 requests each, through the real limiter and a fake that
    answers 429 beyond Fortnox's limit (the client is told not to retry 429s)."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    statuses = context.Queue()
    with FakeFortnoxServer() as server:
        token = server.fake.issue_token()["access_token"]
        workers = [
            context.Process(
                target=_hammer,
                args=(server.api_url, token, settings.REDIS_URL, key, 25, start, statuses),
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        assert [statuses.get(timeout=60) for _ in workers] == ["ready", "ready"]
        started = time.monotonic()
        start.set()
        results = [statuses.get(timeout=30) for _ in range(50)]
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.join(timeout=10)
        log = server.fake.requests()

    assert results == [200] * 50
    assert len(log) == 50
    assert server.fake.max_in_window(window=5.0) == 25
    assert elapsed >= RATE_WINDOW  # the second 25 waited for the window to move on
    print(f"50 requests from 2 processes in {elapsed:.2f} s; at most 25 in any 5 s")
