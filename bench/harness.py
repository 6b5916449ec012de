"""A throw-away PostgreSQL database with the project's schema, for benchmarks."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "severa.settings.test")


@contextmanager
def bench_database() -> Iterator[None]:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def rate(action: Callable[[], object], *, seconds: float = 3.0) -> tuple[float, int]:
    """Calls per second of ``action`` over about ``seconds`` (after one warm-up call)."""
    action()
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        action()
        count += 1
    return count / (time.perf_counter() - started), count
