"""`make test`: the suite in two pytest calls, the second only if needed.

1. Every test not marked ``serial``, spread over pytest-xdist workers, one per core (at most
   one per Redis database from REDIS_URL's number up; TEST_WORKERS overrides the count; with
   one core or TEST_WORKERS=1 there are no workers: the tests run in this process).
2. The tests marked ``serial`` (they need the machine alone: timing, real worker processes,
   killed processes), one after another.

Both print the 15 slowest tests. The arguments (PYTEST_ARGS) go to both calls, a `-m EXPR`
among them joined to each call's own (`(EXPR) and not serial`, `(EXPR) and serial`); a call
that selects no test counts as passed unless both select none. Exits non-zero if either fails.
"""

import os
import shlex
import subprocess
import sys
from urllib.parse import urlsplit

import redis

NO_TESTS_COLLECTED = 5


def redis_db_url(url: str, db: int) -> str:
    return urlsplit(url)._replace(path=f"/{db}").geturl()


def worker_count() -> int:
    """Cores (or TEST_WORKERS), at most as many as Redis has databases from REDIS_URL's up:
    worker gwN uses REDIS_URL's database + N (severa/settings/test.py)."""
    wanted = int(os.environ.get("TEST_WORKERS") or len(os.sched_getaffinity(0)))
    redis_url = os.environ["REDIS_URL"]
    base = int(urlsplit(redis_url).path.strip("/") or 0)
    for count in range(1, wanted):
        try:
            redis.Redis.from_url(redis_db_url(redis_url, base + count), socket_timeout=5).ping()
        except redis.ResponseError:  # "DB index is out of range"
            print(
                f"Redis has no database {base + count}: {count} workers (databases {base}–"
                f"{base + count - 1}); a lower number in REDIS_URL allows more.",
                file=sys.stderr,
            )
            return count
    return max(wanted, 1)


def pytest(*args: str) -> int:
    command = [os.path.join(os.path.dirname(sys.executable), "pytest"), "--durations=15", *args]
    print("+", shlex.join(command), flush=True)
    return subprocess.call(command)  # noqa: S603


def split_markers(args: list[str]) -> tuple[list[str], str]:
    """The arguments without a `-m EXPR` of their own, and that expression (or "")."""
    rest, expression = [], ""
    arguments = iter(args)
    for argument in arguments:
        if argument == "-m":
            expression = next(arguments, "")
        elif argument.startswith("-m") and not argument.startswith("--"):
            expression = argument[2:].removeprefix("=")
        else:
            rest.append(argument)
    return rest, expression


def main(args: list[str]) -> int:
    args, expression = split_markers(args)
    own = f"({expression}) and " if expression else ""
    workers = worker_count()
    parallel = ["-n", str(workers), "--dist", "worksteal"] if workers > 1 else []
    codes = [
        pytest(*parallel, "-m", f"{own}not serial", *args),
        pytest("-m", f"{own}serial", *args),
    ]
    if codes == [NO_TESTS_COLLECTED] * 2:
        return NO_TESTS_COLLECTED
    return max(0 if code == NO_TESTS_COLLECTED else code for code in codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
