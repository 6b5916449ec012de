"""The one clock. Every piece of code takes today's date and the current time from here.

Tests freeze it with ``frozen(...)``; outside production ``SEVERA_TODAY=YYYY-MM-DD`` replays
a date for a whole process (server, worker, management command). The time of day keeps
running, so a replayed day still has ordered timestamps.
"""

import datetime
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone

# A process-wide override, not a context variable: a frozen test clock must also hold in
# the live-server thread and in an in-process Celery worker.
_frozen: datetime.datetime | None = None
_freezes: list[tuple[object, datetime.datetime]] = []
_lock = threading.Lock()


def now() -> datetime.datetime:
    """The current aware datetime."""
    if _frozen is not None:
        return _frozen
    current = timezone.now()
    replayed = getattr(settings, "SEVERA_TODAY", None)
    if replayed is not None:
        local = timezone.localtime(current)
        current = local.replace(year=replayed.year, month=replayed.month, day=replayed.day)
    return current


def today() -> datetime.date:
    """Today's date in the project's time zone."""
    return timezone.localdate(now())


@contextmanager
def frozen(value: datetime.date | datetime.datetime) -> Iterator[None]:
    """Freeze the clock at a date (local midnight + 12h) or at an aware datetime."""
    global _frozen
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            raise ValueError("frozen() needs an aware datetime")
        moment = value
    else:
        moment = timezone.make_aware(datetime.datetime.combine(value, datetime.time(12, 0)))
    token = object()
    with _lock:
        _freezes.append((token, moment))
        _frozen = moment
    try:
        yield
    finally:
        # Freezes may end out of order (threads of one test each freezing the same clock):
        # drop this one wherever it is, and the latest freeze still open holds.
        with _lock:
            _freezes[:] = [entry for entry in _freezes if entry[0] is not token]
            _frozen = _freezes[-1][1] if _freezes else None
