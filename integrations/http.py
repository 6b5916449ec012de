"""Helpers shared by the clients of other systems: backoff delays and ``Retry-After``.

Retry policy (RELIABILITY.md, "Calls to other systems"): timeouts, 5xx and 429 are worth
another attempt after a pause that grows exponentially, with full jitter so that several
workers that failed together do not retry together; validation errors (other 4xx) are not.
"""

from __future__ import annotations

import datetime
import email.utils
import random
from collections.abc import Iterator

import requests
import urllib3


def backoff_delays(
    *,
    attempts: int,
    base: float = 0.5,
    cap: float = 30.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """The pauses before retries 1..attempts-1: uniform in [0, min(cap, base * 2**n)]
    ("full jitter", AWS Architecture Blog, *Exponential Backoff And Jitter*)."""
    rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
    for retry in range(attempts - 1):
        yield rng.uniform(0, min(cap, base * 2**retry))


def parse_retry_after(value: str | None, *, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None
    when the header is missing or unreadable. Never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    now = now or datetime.datetime.now(tz=datetime.UTC)
    return max(0.0, (moment - now).total_seconds())


def never_sent(error: requests.exceptions.RequestException) -> bool:
    """True when the request certainly did not reach the server (safe to send again)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)
