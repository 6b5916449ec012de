"""The limiter that follows the limit a remote system advertises (X-RateLimit-*): shared
through Redis, it spends the advertised remainder and waits for the reset before the last
`reserve` requests."""

import time
import uuid

import pytest

from integrations.ratelimit import (
    Advertised,
    LocalAdvertisedLimiter,
    RedisAdvertisedLimiter,
    advertised_limit,
    limiter_follow,
)

# The waits are measured against upper bounds (a busy machine makes them late).
pytestmark = pytest.mark.serial


@pytest.fixture(params=["redis", "local"])
def make(request, settings):
    def limiter(**options):
        if request.param == "redis":
            made = RedisAdvertisedLimiter(f"test:{uuid.uuid4().hex}", **options)
            return made
        return LocalAdvertisedLimiter(**options)

    return limiter


def test_headers_are_read_and_bad_ones_ignored():
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "12"}
    assert advertised_limit(headers) == Advertised(100, 7, 12.0)
    assert advertised_limit({"X-RateLimit-Limit": "100"}) is None
    assert advertised_limit({**headers, "X-RateLimit-Remaining": "many"}) is None


def test_nothing_known_admits_at_once(make):
    limiter = make(reserve=1)
    assert limiter.acquire(timeout=0.1) < 0.05


def test_the_last_requests_wait_for_the_reset(make):
    limiter = make(reserve=1)
    limiter.observe(Advertised(limit=10, remaining=3, reset=0.6))

    waits = [limiter.acquire(timeout=2.0) for _ in range(3)]

    assert waits[0] < 0.05 and waits[1] < 0.05
    assert 0.4 < waits[2] < 1.0  # 3 left, one kept: the third waits for the new window


def test_an_answer_never_raises_the_remainder_within_a_window(make):
    limiter = make(reserve=0)
    limiter.observe(Advertised(limit=10, remaining=2, reset=0.6))
    limiter.acquire(timeout=0.1)
    limiter.acquire(timeout=0.1)
    # An answer to the first request (counted before the second arrived) says 1 is left.
    limiter.observe(Advertised(limit=10, remaining=1, reset=0.6))

    started = time.monotonic()
    limiter.acquire(timeout=2.0)

    assert time.monotonic() - started > 0.4


def test_limiters_that_follow_nothing_are_left_alone():
    class Plain:
        pass

    limiter_follow(
        Plain(), {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}
    )
    limiter_follow(None, {})
